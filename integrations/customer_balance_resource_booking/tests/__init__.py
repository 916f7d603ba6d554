from . import test_resource_booking
from . import test_cancel_after_billing
from . import test_price_change_after_billing
