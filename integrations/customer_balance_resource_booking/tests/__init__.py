from . import test_resource_booking
