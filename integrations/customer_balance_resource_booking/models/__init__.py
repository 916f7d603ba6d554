from . import calendar_event
from . import customer_balance_line
from . import resource_booking
from . import sale_order
from . import sale_order_line
