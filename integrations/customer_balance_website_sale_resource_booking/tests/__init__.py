from . import test_shop_booking
