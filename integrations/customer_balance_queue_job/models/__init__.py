from . import customer_balance
from . import customer_balance_run
from . import res_config_settings
