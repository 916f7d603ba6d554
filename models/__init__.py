from . import res_company
from . import res_config_settings
from . import product_template
from . import res_partner
from . import customer_balance
from . import customer_balance_line
from . import account_move
