"""`text__ilike_contains`: case-insensitive substring as `ILIKE`, which pg_trgm indexes.

Django's `icontains` compiles to `UPPER(text) LIKE UPPER(...)`, so a trigram index would have
to be on the UPPER(text) expression; pg_trgm folds case itself and answers ILIKE from an index
on the plain column, which is cheaper to maintain on every insert.
"""

from django.db.models import TextField
from django.db.models.lookups import IContains


@TextField.register_lookup
class ILikeContains(IContains):
    lookup_name = "ilike_contains"

    def as_sql(self, compiler, connection):
        if connection.vendor != "postgresql":
            return super().as_sql(compiler, connection)
        lhs_sql, lhs_params = self.process_lhs(compiler, connection)
        # IContains escapes %, _ and \ in the value and wraps it in %...%.
        rhs_sql, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs_sql} ILIKE {rhs_sql}", (*lhs_params, *rhs_params)
