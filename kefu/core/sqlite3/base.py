"""Django's SQLite backend with exact money in aggregates (the engine Kefu uses for SQLite).

SQLite keeps decimals as binary floats. Django rounds a decimal column read back to its field's
places, but the result of an expression over decimals (SUM, AVG, MIN, MAX, paid - refund) only to 15
significant digits, so a sum of 59.90 + … came back as 59.9000000000000 and a month's sales as
1902487.15000001. Here those results are rounded to their field's decimal places like a column
(money fields have 2), in this one place for every query. The float error of SQLite's SUM is far
below half a cent for the sums Kefu makes (tests/core/test_money_sums.py adds up to a million rows
of cents against Python's Decimal).
"""

from decimal import ROUND_HALF_UP, Decimal

from django.db.backends.sqlite3 import base, operations
from django.db.models.expressions import Col


class DatabaseOperations(operations.DatabaseOperations):
    def get_decimalfield_converter(self, expression):
        converter = super().get_decimalfield_converter(expression)
        places = getattr(expression.output_field, "decimal_places", None)
        if isinstance(expression, Col) or places is None:
            return converter
        quantum = Decimal(1).scaleb(-places)

        def rounded(value, expression, connection):
            value = converter(value, expression, connection)
            return None if value is None else value.quantize(quantum, rounding=ROUND_HALF_UP)

        return rounded


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
