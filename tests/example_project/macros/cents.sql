{% macro cents(column) %}({{ column }} / 100.0){% endmacro %}
