from . import test_event_sale
