from . import customer_balance_entry
from . import customer_balance_line_move
from . import customer_balance_cancel
from . import customer_balance_preview
from . import base_partner_merge_automatic_wizard
from . import customer_balance_run_preview
