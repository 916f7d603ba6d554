# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .customer_balance import CHUNK_SIZE_PARAM, DEFAULT_CHUNK_SIZE


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    balance_queue_chunk_size = fields.Integer(
        string="Balances per Job",
        config_parameter=CHUNK_SIZE_PARAM,
        default=DEFAULT_CHUNK_SIZE,
        help="The bill run hands the due balances to the job queue in jobs of this "
        "many balances; the queue's workers bill the jobs in parallel.",
    )

    @api.constrains("balance_queue_chunk_size")
    def _check_balance_queue_chunk_size(self):
        for settings in self:
            if settings.balance_queue_chunk_size < 1:
                raise ValidationError(self.env._("A job bills at least one balance."))
