"""The catalogue of iSAMS datasets: the one place that knows where each dataset lives in the API.

Everything that is *uncertain* about the real iSAMS API (see ``../shared/reference/isams-api.md``) is
kept here, marked ``evidenced=False``, so that a correction after meeting a live iSAMS is a one-line
change. The sandbox renders from this catalogue and the ingestion parses with it, so they cannot drift.

Uncertain points, stated once:
- Batch method names for contacts, custom groups, teaching and registration datasets are not published;
  the names below follow the evidenced ``<Module>_Get<Thing>`` pattern.
- ``RegistrationStatus.Code`` is taken to be the id of a code in one of the school's own code lists, and
  the list holding the id (REST present/absence codes, else the school's rows of ``seeds/isams_code_map.csv``)
  decides present or absence; ``Registered`` decides only for an id in both lists (ids may collide) or in
  neither (flagged), and is otherwise a cross-check (public sources leave its meaning open; some schools may
  send ``"1"`` for every taken register). No code: ``Registered == "1"`` is present, ``"0"`` is a register
  not yet taken. This interpretation lives in ``models/staging/isams/stg_isams__registration_statuses``.
- The Registration filter's ``EndDate`` is treated as exclusive (clients ask for today..tomorrow).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BatchDataset:
    """One Batch API dataset: how to ask for it, where its items sit, and where it lands."""

    name: str  # our name; also the raw table name in ``raw_isams``
    method: str  # the Batch ``MethodsToRun`` method name
    path: tuple[str, str, str]  # (manager, collection, item) under the ``iSAMS`` root
    primary_key: str  # the item's natural id (before dlt naming), unique within one school
    evidenced: bool  # False where the method name or path is inferred, not seen in real output
    windowed: bool = False  # True for registers: asked for by date window, loaded incrementally


BATCH_DATASETS: tuple[BatchDataset, ...] = (
    BatchDataset("staff", "HumanResources_GetCurrentStaff", ("HRManager", "CurrentStaff", "StaffMember"), "@Id", True),
    BatchDataset("pupils", "Pupil_GetCurrentPupils", ("PupilManager", "CurrentPupils", "Pupil"), "@Id", True),
    BatchDataset("contacts", "Pupil_GetContacts", ("PupilManager", "Contacts", "Contact"), "@PersonId", False),
    BatchDataset(
        "custom_groups", "Pupil_GetCustomPupilGroups",
        ("PupilManager", "CustomPupilGroups", "CustomPupilGroup"), "@Id", False,
    ),
    BatchDataset(
        "custom_group_memberships", "Pupil_GetCustomPupilGroupMembership",
        ("PupilManager", "CustomPupilGroupMembershipItems", "CustomPupilGroupMembershipItem"), "@Id", False,
    ),
    BatchDataset("academic_houses", "School_GetAcademicHouses", ("SchoolManager", "AcademicHouses", "House"), "@Id", True),
    BatchDataset("boarding_houses", "School_GetBoardingHouses", ("SchoolManager", "BoardingHouses", "House"), "@Id", True),
    BatchDataset("forms", "School_GetSchoolForms", ("SchoolManager", "Forms", "Form"), "@Id", True),
    BatchDataset("divisions", "School_GetSchoolDivisions", ("SchoolManager", "SchoolDivisions", "SchoolDivision"), "@Id", True),
    BatchDataset("year_groups", "School_GetAllYears", ("SchoolManager", "Years", "Year"), "@Id", True),
    BatchDataset("terms", "School_GetSchoolTerms", ("SchoolManager", "Terms", "Term"), "@Id", True),
    BatchDataset("departments", "Teaching_GetDepartments", ("TeachingManager", "Departments", "Department"), "@Id", False),
    BatchDataset("teaching_forms", "Teaching_GetTeachingForms", ("TeachingManager", "TeachingForms", "TeachingForm"), "@Id", False),
    BatchDataset("teaching_sets", "Teaching_GetSets", ("TeachingManager", "Sets", "Set"), "@Id", False),
    BatchDataset("set_lists", "Teaching_GetSetLists", ("TeachingManager", "SetLists", "SetList"), "@Id", False),
    BatchDataset(
        "registration_statuses", "Registration_GetRegistrationStatus",
        ("RegistrationManager", "RegistrationStatuses", "RegistrationStatus"), "@Id", False, windowed=True,
    ),
)

BY_NAME: dict[str, BatchDataset] = {d.name: d for d in BATCH_DATASETS}
BY_METHOD: dict[str, BatchDataset] = {d.method.lower(): d for d in BATCH_DATASETS}


@dataclass(frozen=True)
class RestDataset:
    """One REST API list endpoint (paged, camelCase JSON)."""

    name: str  # raw table name
    path: str  # URL path under the school's base URL
    wrapper: str  # the key holding the list in each page
    primary_key: str
    optional: bool = False  # True: a school whose iSAMS does not serve it (403/404) just has none; not a failure


REST_DATASETS: tuple[RestDataset, ...] = (
    RestDataset("absence_codes", "/api/registration/absencecodes", "absenceCodes", "id"),
    RestDataset("present_codes", "/api/registration/presentcodes", "presentCodes", "id"),
    # Former pupils (leavers) with their attributes as they left. Inferred: the reference lists REST
    # `/api/alumni` [alumni] and student fields such as leavingDate, yearGroup, formGroup, boardingStatus, but
    # no sample of an alumni item; the fields are taken to be the Student ones. The Batch API has no leavers
    # method (Pupil_GetCurrentPupils is current pupils only), so a Batch-only school has no leavers' attributes.
    RestDataset("former_pupils", "/api/alumni", "alumni", "id", optional=True),
)

REST_TERMS = RestDataset("rest_terms", "/api/school/terms", "terms", "id")
