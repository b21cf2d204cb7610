{#-
  What is wrong: an attendance band of seeds/attendance_band_edges.csv holds both DfE persistent (or severe)
  absentees and pupils who are not: its edges disagree with var('persistent_absence_threshold') (10) or
  var('severe_absence_threshold') (50), the one persistent-absence rule.
  Why it matters: the `persistent` band would not count the pupils `persistent_absence` and every other mart
  count, and the restricted list would name the wrong pupils.
  How to fix: keep the persistent and severe edges of the seed at the vars (change the vars, not the seed, to
  change the rule), e.g. `4,persistent,...,10,true` and `5,severe,...,50,true`; then `schoolwh build`.
-#}
{{ config(store_failures=true) }}

select
    band_code,
    count(*) as pupil_weeks,
    'Attendance band ''' || band_code || ''' of seeds/attendance_band_edges.csv holds both DfE '
        || case when count(distinct is_persistent_absentee) > 1 then 'persistent' else 'severe' end
        || ' absentees and pupils who are not: its edges disagree with the persistent/severe absence thresholds'
        as problem
from {{ ref('attendance_bands') }}
group by band_code
having count(distinct is_persistent_absentee) > 1 or count(distinct is_severe_absentee) > 1
