# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from . import test_bill_run_queue
from . import test_runner_path
