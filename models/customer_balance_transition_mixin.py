# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import Command, models
from odoo.exceptions import UserError

# The scope of a record's own transitions (its state and what comes with it).
LIFECYCLE = "lifecycle"


class _TransitionToken:
    """The context value of a running transition: the scopes it may write and the
    flags it carries. A client's context is JSON and can never hold one, so no RPC
    call, whatever context it sends, writes around the transitions."""

    __slots__ = ("flags", "scopes")

    def __init__(self, scopes=(), flags=()):
        self.scopes = frozenset(scopes)
        self.flags = frozenset(flags)


class CustomerBalanceTransitionMixin(models.AbstractModel):
    """Fields that only a record's transitions write, as ``account.move.write``
    guards a posted move's ``_get_integrity_hash_fields()``.

    A model says, for each record in its current state, which fields only the
    transitions of a scope may write (``_get_transition_fields``) and why a write
    of them is refused (``_get_transition_error``). Its transitions, and a
    bridge's code that plays one (an order synchronising its items), write
    through ``_as_transition(scope)``; ``write`` refuses everyone else, unless the
    value written is the one the record already has.

    Apart from that permission, code may mark a write with a flag of its own
    (``_with_transition_flag``), such as "the caller updates the balance itself":
    no client can set one either, and it authorises nothing."""

    _name = "customer.balance.transition.mixin"
    _description = "Fields Written Only by Transitions"

    _TRANSITION_CONTEXT_KEY = "customer_balance_transition"

    # === CRUD METHODS === #

    def write(self, vals):
        self._check_transition_write(vals)
        return super().write(vals)

    # === TRANSITION API === #

    def _as_transition(self, scope=LIFECYCLE):
        """These records, allowed to write the fields of the transitions of
        ``scope`` (besides what they were allowed already)."""
        token = self._get_transition_token()
        return self.with_context(
            **{
                self._TRANSITION_CONTEXT_KEY: _TransitionToken(
                    token.scopes | {scope}, token.flags
                )
            }
        )

    def _in_transition(self, scope=LIFECYCLE):
        """Whether a transition of ``scope`` is writing these records."""
        return scope in self._get_transition_token().scopes

    def _with_transition_flag(self, flag):
        """These records, their writes marked with ``flag`` (which no client can
        send). A flag permits no field: that is ``_as_transition``'s job."""
        token = self._get_transition_token()
        return self.with_context(
            **{
                self._TRANSITION_CONTEXT_KEY: _TransitionToken(
                    token.scopes, token.flags | {flag}
                )
            }
        )

    def _has_transition_flag(self, flag):
        """Whether the writes of these records are marked with ``flag``."""
        return flag in self._get_transition_token().flags

    def _get_transition_token(self):
        token = self.env.context.get(self._TRANSITION_CONTEXT_KEY)
        return token if isinstance(token, _TransitionToken) else _TransitionToken()

    # === HOOKS === #

    def _get_transition_fields(self):
        """Per-state hook: ``{scope: field names}`` that only the transitions of
        ``scope`` may write on this record, in its current state. Extend it to
        protect more fields."""
        self.ensure_one()
        return {}

    def _get_transition_error(self, scope, field_names):
        """The message refusing a write that changes ``field_names`` (fields of
        the transitions of ``scope``) on these records."""
        return self.env._(
            "These fields change only through the record's actions: %s",
            ", ".join(
                self._fields[name]._description_string(self.env)
                for name in sorted(field_names)
            ),
        )

    # === GUARD === #

    def _check_transition_write(self, vals):
        """Refuse ``vals`` when they change a field that only a transition not
        running now may write; writing a record's own value back changes nothing
        and passes. Access rights are checked first: someone who may not write
        the record at all gets an access error, not a lesson."""
        token = self._get_transition_token()
        for scope, names in self._get_guarded_fields(vals).items():
            if scope in token.scopes:
                continue
            changed = self._get_changed_fields(vals, names)
            if changed:
                self.check_access("write")
                raise UserError(self._get_transition_error(scope, changed))

    def _get_guarded_fields(self, vals):
        """``{scope: names of the fields of vals}`` guarded on some of these
        records."""
        guarded = {}
        written = set(vals)
        for record in self:
            for scope, names in record._get_transition_fields().items():
                hit = written.intersection(names)
                if hit:
                    guarded.setdefault(scope, set()).update(hit)
        return guarded

    def _get_changed_fields(self, vals, names):
        """Those of ``names`` whose value in ``vals`` differs from the value of
        one of these records (a value that cannot be compared counts as a
        change)."""
        return {
            name
            for name in names
            if any(record._is_changed_by(name, vals[name]) for record in self)
        }

    def _is_changed_by(self, name, value):
        """Whether writing ``value`` in the field ``name`` changes this record."""
        self.ensure_one()
        field = self._fields[name]
        if field.type in ("one2many", "many2many"):
            # Commands creating or updating records always change something;
            # converting them would also write the cache of those records.
            commands = value if isinstance(value, (list, tuple)) else []
            if any(
                isinstance(command, dict)
                or (
                    isinstance(command, (list, tuple))
                    and command[0] in (Command.CREATE, Command.UPDATE)
                )
                for command in commands
            ):
                return True
            try:
                new = field.convert_to_cache(value, self)
            except (TypeError, ValueError):
                return True
            return set(new) != set(self[name]._ids)
        try:
            new = field.convert_to_cache(value, self)
        except (TypeError, ValueError):
            return True
        return new != field.convert_to_cache(self[name], self)
