from . import test_shop_booking
from . import test_demo
