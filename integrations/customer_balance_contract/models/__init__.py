from . import contract_contract
from . import customer_balance_line
from . import customer_balance_run
