from . import event_event
from . import event_registration
from . import sale_order_line
