from . import test_event_sale
from . import test_price_change_after_billing
