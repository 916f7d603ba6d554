from . import test_cost_center
