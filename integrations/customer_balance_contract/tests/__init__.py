from . import test_subscription
