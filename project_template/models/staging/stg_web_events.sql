-- Page views exported by the web shop into landing/. Reading the files makes this model depend on the
-- file sensor `landing_files` (see models/sources/sources.yml), so it waits until they have arrived.
select
    event_id,
    customer_id,
    page,
    cast(occurred_at as timestamp) as occurred_at
from read_csv('landing/*.csv', header = true)
