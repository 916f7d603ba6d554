from . import test_settings
from . import test_customer_balance
from . import test_access
