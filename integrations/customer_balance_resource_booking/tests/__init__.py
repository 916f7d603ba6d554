from . import test_resource_booking
from . import test_cancel_after_billing
