from . import customer_balance
from . import customer_balance_line
