"""Seed a benchmark database fast: departments, staff, citizens, applications, cases, object
permissions and audit events, as the portal's own code would have left them.

    .venv/bin/python bench/seed.py --database portal_bench_seed [--full | --cases N] [--keep]

What goes through the real code and what is bulk-written:

- Departments, staff, memberships and the catalog are made by the actions (`department_create`,
  `user_create`, `membership_grant`, `seed_catalog` and the service actions): a few thousand
  statements, with their audit events.
- Citizens, applications, cases, object permissions, questions and audit events are written
  with PostgreSQL COPY from worker processes. Their shapes come from the portal's code: answers
  are sealed by `services.answers.seal` (one AES-GCM token per personal value, bound to the row
  and field), free text (decision notes, questions, file names) by `privacy.freetext.seal_text`,
  the blind index by `national_id_index`, case states by `workflows.engine.plan`
  (which cases exist, which open when a dependency is decided, which are cancelled), due dates
  by `add_business_days`, and the permission rows are those routing grants and closing leaves
  (`workflows.permissions.grant_department`, `revoke_on_close`).

Time in the simulation: applications arrive at the same rate at every scale (the full scale's
350,000 applications over two years), so a small database is a city's first days and the full
one its two years; the backlog of open work is about the same, the history is not.

Over 400 lines: the seeding plan shared with the worker processes, the simulation of the cases'
states, the two COPY writers (citizens; applications with everything that hangs on them), the
index drop and rebuild and the steps that order them; split, the row shapes the writers share
with the plan would drift apart.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
import hashlib
import json
import math
import multiprocessing
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import FULL, SMALL, Scale, create_database, setup_django

HISTORY_DAYS_AT_FULL = 730  # the full scale's applications arrive over two years
CHUNK = 2_000  # applications per COPY transaction in a worker

# The demo catalog covers eight departments; a second and third district run the same life
# events with their own offices (the catalog's services cloned with the departments renamed).
DISTRICTS: list[tuple[str, str, list[str]]] = [
    (
        "north",
        "Northern district",
        [
            "civil-registry",
            "health-insurance",
            "social-security",
            "household-registration",
            "tax",
            "transport",
            "education",
            "market-regulation",
        ],
    ),
    (
        "south",
        "Southern district",
        ["civil-registry", "health-insurance", "social-security", "household-registration"],
    ),
]
# Share of applications per catalog service family (city-wide, north, south).
SERVICE_WEIGHTS = {"": 0.5, "north": 0.33, "south": 0.17}

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕鹏辉建国志文斌宇浩凯俊"
STREETS = ["人民路", "解放路", "中山路", "建设路", "和平街", "长江路", "黄河路", "新华街", "光明路"]
DISTRICT_NAMES = ["东城区", "西城区", "朝阳区", "海淀区", "丰台区", "石景山区", "通州区"]
AREAS = ["110101", "110102", "110105", "110108", "310101", "440106", "510104", "320102"]
BUSINESS_WORDS = ["面馆", "书店", "花店", "咨询", "科技", "物流", "茶社", "设计", "维修"]


def scale_for(cases: int) -> Scale:
    """A scale with `cases` cases and the full scale's proportions (staff and departments fixed)."""
    if cases == FULL.cases:
        return FULL
    if cases == SMALL.cases:
        return SMALL
    ratio = cases / FULL.cases
    return replace(
        FULL,
        citizens=max(100, round(FULL.citizens * ratio)),
        applications=max(10, round(FULL.applications * ratio)),
        cases=cases,
    )


# --- references: bijective, so a million of them never collide ---------------------------------

_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # the portal's reference alphabet (32 symbols)
_MULT = 0x9E3779B97F  # odd, so multiplication modulo 2**40 is a bijection


def _reference(prefix: str, number: int) -> str:
    n = (number * _MULT + 0x5DEECE66D) % (1 << 40)
    body = "".join(_ALPHABET[(n >> (5 * i)) & 31] for i in range(8))
    return f"{prefix}-{body[:4]}-{body[4:]}"


# --- what every worker knows (set in the parent before the workers fork) --------------------------


@dataclass
class _StepSpec:
    key: str  # service:step
    step: str
    name: str
    department_id: int
    group_id: int
    lead_group_id: int | None
    sla_days: int
    fields_json: str


@dataclass
class _Version:
    id: int
    slug: str
    base: str  # the demo service it comes from (newborn, moving-house, start-business)
    steps: list  # engine Steps
    specs: dict[str, _StepSpec]


@dataclass
class _Plan:
    url: str
    now: dt.datetime
    seed: int
    citizens: int
    citizen_base: int  # first citizen user id
    applications: int
    application_base: int
    target_cases: int
    versions: list[_Version]
    weights: list[float]
    staff: dict[int, list[int]]  # department id -> staff user ids
    perm_view: int
    perm_change: int
    perm_assign: int
    dictionary: dict = field(default_factory=dict)
    condition_p: float = 0.5
    attachment_key_id: bool = False


_P: _Plan | None = None
_conn = None


def _connection():
    global _conn
    if _conn is None:
        import psycopg

        _conn = psycopg.connect(_P.url)
    return _conn


# --- people ------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _citizen_facts(index: int) -> dict:
    """A citizen's stable facts, the same in the profile and in every application."""
    from services.validators import make_national_id

    rng = random.Random(index * 7919 + 17)
    surname = rng.choice(SURNAMES)
    name = surname + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
    birth = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(365 * 55))
    return {
        "applicant.full_name": name,
        "applicant.national_id": make_national_id(
            rng.choice(AREAS), birth, f"{rng.randrange(1000):03d}"
        ),
        "applicant.date_of_birth": birth.isoformat(),
        "applicant.phone": f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}",
        "applicant.email": f"citizen{index}@bench.example",
        "applicant.address": _address(rng),
        "_surname": surname,
    }


def _address(rng: random.Random) -> str:
    return (
        f"北京市{rng.choice(DISTRICT_NAMES)}{rng.choice(STREETS)}{rng.randrange(1, 300)}号"
        f"{rng.randrange(1, 30)}单元{rng.randrange(101, 2600)}室"
    )


def _citizens_chunk(bounds: tuple[int, int]) -> int:
    """Users, their email addresses and sealed profiles for citizens [start, stop)."""
    from services.answers import national_id_index, seal

    start, stop = bounds
    conn, plan = _connection(), _P
    joined = plan.now - dt.timedelta(days=HISTORY_DAYS_AT_FULL + 30)
    profile_keys = [k for k in plan.dictionary if plan.dictionary[k].profile_field]
    with conn.transaction(), conn.cursor() as cur:
        with cur.copy(
            "COPY accounts_user (id, password, is_superuser, email, full_name, staff_role, "
            "is_staff, is_active, date_joined, language, service_label) FROM STDIN"
        ) as copy:
            for i in range(start, stop):
                facts = _citizen_facts(i)
                copy.write_row(
                    (
                        plan.citizen_base + i,
                        "!bench-unusable",  # citizens sign in through allauth; no password here
                        False,
                        facts["applicant.email"],
                        facts["applicant.full_name"],
                        "",
                        False,
                        True,
                        joined + dt.timedelta(minutes=i % 500_000),
                        "",  # no language chosen: pages follow the browser
                        "",  # a person, not a department's system
                    )
                )
        with cur.copy(
            'COPY account_emailaddress (email, verified, "primary", user_id) FROM STDIN'
        ) as copy:
            for i in range(start, stop):
                copy.write_row(
                    (_citizen_facts(i)["applicant.email"], True, True, plan.citizen_base + i)
                )
        with cur.copy(
            "COPY services_citizenprofile (user_id, data, national_id_index, updated_at) FROM STDIN"
        ) as copy:
            for i in range(start, stop):
                facts = _citizen_facts(i)
                user_id = plan.citizen_base + i
                data = {k: facts[k] for k in profile_keys if k in facts}
                sealed = seal(data, row=f"profile:{user_id}", dictionary=plan.dictionary)
                copy.write_row(
                    (
                        user_id,
                        json.dumps(sealed, ensure_ascii=False),
                        national_id_index(facts["applicant.national_id"]),
                        joined,
                    )
                )
    return stop - start


# --- applications and cases --------------------------------------------------------------------


def _answers(version: _Version, citizen: int, rng: random.Random, p: float) -> dict:
    facts = _citizen_facts(citizen)
    answers = {k: v for k, v in facts.items() if not k.startswith("_")}
    surname = facts["_surname"]
    if rng.random() < 0.3:
        del answers["applicant.email"]  # optional in every demo service
    today = _P.now.date()
    if version.base == "newborn":
        child_birth = today - dt.timedelta(days=rng.randrange(2, 60))
        answers.update(
            {
                "parent.full_name": rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
                "parent.national_id": _citizen_facts(rng.randrange(10**9))["applicant.national_id"],
                "child.full_name": surname + rng.choice(GIVEN) + rng.choice(GIVEN),
                "child.date_of_birth": child_birth.isoformat(),
                "child.sex": rng.choice(("female", "male")),
                "birth.hospital": f"第{rng.randrange(1, 12)}人民医院",
                "birth.certificate": "",  # the attachment token, set by the caller
                "birth.claim_allowance": rng.random() < p,
            }
        )
        if answers["birth.claim_allowance"]:
            answers["bank.account"] = f"6222{rng.randrange(10**15):015d}"
    elif version.base == "moving-house":
        answers.update(
            {
                "move.new_address": _address(rng),
                "move.date": (today - dt.timedelta(days=rng.randrange(0, 30))).isoformat(),
                "household.size": rng.randrange(1, 6),
                "household.has_vehicle": rng.random() < p,
                "household.has_school_children": rng.random() < p,
            }
        )
        if answers["household.has_vehicle"]:
            answers["vehicle.plate"] = f"京{rng.choice('ABCEFGHJKLNPQ')}{rng.randrange(10**5):05d}"
        if answers["household.has_school_children"]:
            answers["school.child_name"] = surname + rng.choice(GIVEN) + rng.choice(GIVEN)
            answers["school.grade"] = f"primary-{rng.randrange(1, 7)}"
    else:
        answers.update(
            {
                "business.name": f"{surname}记{rng.choice(BUSINESS_WORDS)}",
                "business.form": rng.choice(("sole_trader", "llc", "partnership")),
                "business.address": _address(rng),
                "business.activity": "经营"
                + rng.choice(BUSINESS_WORDS)
                + "及相关服务，面向社区居民。",  # noqa: RUF001
                "business.start_date": (
                    today + dt.timedelta(days=rng.randrange(5, 90))
                ).isoformat(),
                "business.has_employees": rng.random() < p,
            }
        )
        if answers["business.has_employees"]:
            answers["business.employees"] = rng.randrange(1, 40)
    return answers


@functools.lru_cache(maxsize=65536)
def _due(opened_day: dt.date, sla_days: int) -> dt.datetime:
    from django.utils import timezone

    from workflows.calendar import add_business_days

    start = timezone.make_aware(dt.datetime.combine(opened_day, dt.time(12)))
    return add_business_days(start, sla_days)


@dataclass
class _Case:
    key: str
    status: str
    created: dt.datetime
    opened: dt.datetime | None = None
    due: dt.datetime | None = None
    decide_at: dt.datetime | None = None  # when the department will decide (simulation)
    decided: dt.datetime | None = None
    updated: dt.datetime | None = None
    assignee: int | None = None
    note: str = ""
    breached: dt.datetime | None = None
    reminded: dt.datetime | None = None
    asked: dt.datetime | None = None  # an open question to the citizen


def _simulate(version: _Version, answers: dict, submitted: dt.datetime, withdraw_at, rng):
    """The cases of one application as the engine would have made and moved them until now."""
    from workflows.constants import FINAL_CASE_STATES, CaseStatus
    from workflows.engine import plan

    now = _P.now
    cases: dict[str, _Case] = {}

    def open_case(case: _Case, at: dt.datetime) -> None:
        spec = version.specs[case.key]
        case.status, case.opened, case.updated = CaseStatus.OPEN, at, at
        case.due = _due(at.date(), spec.sla_days)
        # Calendar days to a decision: mostly within the SLA, a tail beyond it.
        days = rng.lognormvariate(math.log(max(0.5, spec.sla_days * 0.55)), 0.55)
        case.decide_at = at + dt.timedelta(days=days)
        case.assignee = rng.choice(_P.staff[spec.department_id])

    def apply(result, at: dt.datetime) -> None:
        for key, status in result.create.items():
            cases[key] = _Case(key=key, status=CaseStatus.PENDING, created=at, updated=at)
            if status == CaseStatus.OPEN:
                open_case(cases[key], at)
            else:
                cases[key].status = status
        for key, status in result.transition.items():
            case = cases[key]
            if status == CaseStatus.OPEN:
                open_case(case, at)
            else:
                case.status, case.updated = status, at
                if status in FINAL_CASE_STATES:
                    case.decided = at

    routed = submitted + dt.timedelta(seconds=rng.uniform(0.2, 3))
    apply(plan(version.steps, answers, {}), routed)
    while True:
        waiting = [c for c in cases.values() if c.status == CaseStatus.OPEN]
        upcoming = min(waiting, key=lambda c: c.decide_at, default=None)
        moment = upcoming.decide_at if upcoming else None
        if (
            withdraw_at is not None
            and withdraw_at <= now
            and (moment is None or withdraw_at < moment)
        ):
            states = {k: c.status for k, c in cases.items()}
            apply(plan(version.steps, answers, states, withdrawn=True), withdraw_at)
            break
        if upcoming is None or moment > now:
            break
        upcoming.decided = upcoming.updated = moment
        if rng.random() < 0.07:
            upcoming.status = CaseStatus.REJECTED
            upcoming.note = "材料不全，无法办理。"  # noqa: RUF001
        else:
            upcoming.status = CaseStatus.APPROVED
        states = {k: c.status for k, c in cases.items()}
        apply(plan(version.steps, answers, states), moment)

    for case in cases.values():
        if case.due is not None:
            end = case.decided or now
            if case.due - dt.timedelta(days=1) <= end:
                case.reminded = case.due - dt.timedelta(days=1)
            if case.due <= end and (case.decided is None or case.decided > case.due):
                case.breached = case.due + dt.timedelta(minutes=rng.randrange(1, 15))
        if case.status != CaseStatus.OPEN:
            if case.status not in (CaseStatus.APPROVED, CaseStatus.REJECTED):
                case.assignee = None  # pending and cancelled cases were never worked on
            continue
        # Still with the department: claimed, asked the citizen, or waiting in the queue.
        elapsed = (now - case.opened) / (case.decide_at - case.opened)
        roll = rng.random()
        if elapsed > 0.3 and roll < 0.12:
            case.status = CaseStatus.AWAITING_CITIZEN
            case.asked = case.opened + (now - case.opened) * 0.5
            case.updated = case.asked
            case.reminded = None if case.reminded and case.reminded > case.asked else case.reminded
            case.breached = None if case.breached and case.breached > case.asked else case.breached
        elif elapsed > 0.15 or roll < 0.3:
            case.status = CaseStatus.IN_PROGRESS
            case.updated = case.opened + (now - case.opened) * 0.2
        else:
            case.assignee = None
    states = {k: c.status for k, c in cases.items()}
    status = plan(
        version.steps, answers, states, withdrawn=withdraw_at is not None and withdraw_at <= now
    ).status
    return cases, status


def _applications_chunk(bounds: tuple[int, int]) -> int:
    """Applications [start, stop) with their cases, permissions, questions and audit events."""
    from audit.actions import new_nonce
    from audit.chain import body_digest, mac_of
    from audit.signing import event_mac_key
    from privacy.freetext import seal_text
    from services.answers import national_id_index, seal
    from services.constants import ApplicationStatus
    from workflows.constants import FINAL_CASE_STATES, CaseStatus

    start, stop = bounds
    plan, conn = _P, _connection()
    rng = random.Random(plan.seed * 1_000_003 + start)
    history = dt.timedelta(days=HISTORY_DAYS_AT_FULL * plan.applications / FULL.applications)
    apps, links, attachments, made = [], [], [], []
    for index in range(start, stop):
        app_id = plan.application_base + index
        reference = _reference("A", app_id)
        version = rng.choices(plan.versions, weights=plan.weights)[0]
        citizen = rng.randrange(plan.citizens)
        answers = _answers(version, citizen, rng, plan.condition_p)
        submitted = plan.now - history * rng.random()
        created = submitted - dt.timedelta(minutes=rng.uniform(3, 3 * 24 * 60))
        if "birth.certificate" in answers:
            token = hashlib.blake2b(f"{plan.seed}:{app_id}".encode(), digest_size=16).hexdigest()
            answers["birth.certificate"] = token
            attachments.append((app_id, reference, token, created))
        withdraw_at = (
            submitted + dt.timedelta(days=rng.uniform(0.1, 12)) if rng.random() < 0.02 else None
        )
        cases, status = _simulate(version, answers, submitted, withdraw_at, rng)
        last = max([submitted] + [c.updated for c in cases.values()])
        completed = last if status == ApplicationStatus.COMPLETED else None
        withdrawn = withdraw_at if status == ApplicationStatus.WITHDRAWN else None
        sealed = seal(answers, row=f"application:{reference}", dictionary=plan.dictionary)
        apps.append(
            (
                app_id,
                reference,
                status,
                json.dumps(sealed, ensure_ascii=False),
                national_id_index(answers["applicant.national_id"]),
                created,
                last,
                submitted,
                withdrawn,
                plan.citizen_base + citizen,
                last,
                completed,
                "[]",  # submitted applications: the task list is behind them
            )
        )
        links.append((app_id, version.id))
        made.append((app_id, reference, plan.citizen_base + citizen, version, submitted, cases))

    total = sum(len(m[5]) for m in made)
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(
            "SELECT nextval(pg_get_serial_sequence('workflows_case', 'id')) "
            "FROM generate_series(1, %s)",
            [total],
        )
        case_ids = iter([r[0] for r in cur.fetchall()])
        with cur.copy(
            "COPY services_application (id, reference, status, answers, national_id_index, "
            "created_at, updated_at, submitted_at, withdrawn_at, citizen_id, routed_at, "
            "completed_at, sections_done) FROM STDIN"
        ) as copy:
            for row in apps:
                copy.write_row(row)
        with cur.copy(
            "COPY services_application_versions (application_id, serviceversion_id) FROM STDIN"
        ) as copy:
            for row in links:
                copy.write_row(row)
        # Rows only, no file on disk; a key_id column (files encrypted at rest) is left "",
        # which the portal reads as "stored before files were encrypted".
        extra = ", key_id" if plan.attachment_key_id else ""
        with cur.copy(
            "COPY services_attachment (application_id, field_key, token, file, original_name, "
            f"content_type, size, sha256, uploaded_at{extra}) FROM STDIN"
        ) as copy:
            for app_id, reference, token, at in attachments:
                copy.write_row(
                    (
                        app_id,
                        "birth.certificate",
                        token,
                        f"attachments/{reference}/{token}",
                        seal_text("birth-certificate.pdf", aad=f"attachment:{token}:original_name"),
                        "application/pdf",
                        180_000 + app_id % 90_000,
                        hashlib.sha256(token.encode()).hexdigest(),
                        at,
                        *([""] if plan.attachment_key_id else []),
                    )
                )
        case_rows, group_perms, questions, events = [], [], [], []
        for app_id, app_ref, citizen_id, version, submitted, cases in made:
            events.append(
                (submitted, "citizen", "application.submit", "services.application", app_ref,
                 "api", json.dumps({"fields": [], "dropped": []}), citizen_id, None, citizen_id)
            )  # fmt: skip
            for key in sorted(cases):
                case, spec = cases[key], version.specs[key]
                case_id = next(case_ids)
                reference = _reference("C", case_id)
                case_rows.append(
                    (
                        case_id, reference, spec.step, spec.name, spec.fields_json,
                        str(case.status), spec.sla_days, case.created, case.opened, case.due,
                        case.decided,
                        seal_text(case.note, aad=f"case:{reference}:decision_note"),
                        case.reminded, case.breached,
                        case.updated, app_id, case.assignee, spec.department_id, version.id,
                    )
                )  # fmt: skip
                # What `permissions.grant_department` grants a new case and
                # `permissions.revoke_on_close` leaves on a closed one: view and change for the
                # department's group, assign for its leads' group until the case closes.
                # Claiming grants nothing (the department's group already holds change_case).
                group_perms.append((case_id, spec.group_id, plan.perm_view))
                group_perms.append((case_id, spec.group_id, plan.perm_change))
                if spec.lead_group_id is not None and case.status not in FINAL_CASE_STATES:
                    group_perms.append((case_id, spec.lead_group_id, plan.perm_assign))
                if case.asked is not None:
                    questions.append((case_id, case.assignee, case.asked))
                initial = CaseStatus.OPEN if case.opened == case.created else CaseStatus.PENDING
                events.append(
                    (case.created, "system", "case.create", "workflows.case", reference, "worker",
                     json.dumps({"application": app_ref, "step": key, "status": str(initial)}),
                     None, spec.department_id, citizen_id)
                )  # fmt: skip
        with cur.copy(
            "COPY workflows_case (id, reference, step, step_name, fields, status, sla_days, "
            "created_at, opened_at, due_at, decided_at, decision_note, reminded_at, breached_at, "
            "updated_at, application_id, assignee_id, department_id, version_id) FROM STDIN"
        ) as copy:
            for row in case_rows:
                copy.write_row(row)
        with cur.copy(
            "COPY workflows_casegroupobjectpermission (content_object_id, group_id, "
            "permission_id) FROM STDIN"
        ) as copy:
            for row in group_perms:
                copy.write_row(row)
        # Questions are sealed bound to their row id, so the ids are taken first.
        cur.execute(
            "SELECT nextval(pg_get_serial_sequence('workflows_informationrequest', 'id')) "
            "FROM generate_series(1, %s)",
            [len(questions)],
        )
        question_ids = [r[0] for r in cur.fetchall()]
        with cur.copy(
            "COPY workflows_informationrequest (id, case_id, asked_by_id, message, asked_at, "
            "reply, changed_fields) FROM STDIN"
        ) as copy:
            for question_id, (case_id, asked_by, at) in zip(question_ids, questions, strict=True):
                message = seal_text(
                    "请补充上传清晰的材料照片。", aad=f"information_request:{question_id}:message"
                )
                copy.write_row((question_id, case_id, asked_by, message, at, "", "[]"))
        kid, key = event_mac_key()
        with cur.copy(
            "COPY audit_auditevent (occurred_at, actor_role, action, target_type, target_ref, "
            "source, details, actor_id, actor_department_id, subject_id, purpose, request_id, "
            "prev_hash, hash, nonce, mac) FROM STDIN"
        ) as copy:
            for at, role, action, ttype, ref, source, details, actor, dept, subject in events:
                nonce = new_nonce()
                body = [nonce, at, actor, role, dept, action, ttype, ref, subject, "", "", source,
                        None, details]  # fmt: skip
                mac = mac_of(kid, key, body_digest(body))
                copy.write_row(
                    (at, role, action, ttype, ref, source, details, actor, dept, subject, "", "",
                     "", "", nonce, mac)
                )  # fmt: skip
    return total


# --- the parent --------------------------------------------------------------------------------


def _departments_and_catalog(scale: Scale) -> None:
    """The demo departments and catalog through the actions, and the districts' clones."""
    from accounts import actions as accounts
    from accounts.models import Department
    from demo.accounts import DEPARTMENTS
    from demo.catalog import SERVICES
    from demo.seed import seed_catalog
    from services import actions as services
    from services.constants import ServiceKind

    names = {slug: name for slug, name, _email in DEPARTMENTS}
    wanted = list(names.items())
    for district, label, slugs in DISTRICTS:
        wanted += [(f"{district}-{slug}", f"{names[slug]} ({label})") for slug in slugs]
    wanted = wanted[: scale.departments]
    for slug, name in wanted:
        if not Department.objects.filter(slug=slug).exists():
            accounts.department_create(actor=None, slug=slug, name=name)
    seed_catalog()
    existing = set(Department.objects.values_list("slug", flat=True))
    for district, label, _slugs in DISTRICTS:
        for spec in SERVICES:
            steps = spec["workflow"]["steps"]
            renamed = [f"{district}-{s['department']}" for s in steps]
            if not all(slug in existing for slug in renamed):
                continue
            slug = f"{spec['slug']}-{district}"
            from services.models import Service

            if Service.objects.filter(slug=slug).exists():
                continue
            workflow = {
                "steps": [{**s, "department": d} for s, d in zip(steps, renamed, strict=True)]
            }
            service = services.service_create(
                actor=None,
                slug=slug,
                name=f"{spec['name']} ({label})",
                description=spec["description"],
                kind=ServiceKind.LIFE_EVENT,
                keywords=spec["keywords"],
            )
            draft = services.service_version_draft(
                actor=None, service=service, fields=spec["fields"], workflow=workflow
            )
            services.service_version_update(
                actor=None, version=draft, fields=spec["fields"], workflow=workflow
            )
            services.service_version_publish(actor=None, version=draft)


def _staff(scale: Scale) -> dict[int, list[int]]:
    """Clerks and leads (one lead per ten staff) of every department, through the actions."""
    from accounts import actions as accounts
    from accounts.constants import MembershipRole
    from accounts.models import Department, Membership

    departments = list(Department.objects.order_by("id"))
    per = max(2, scale.staff // len(departments))
    leads = max(1, per // 10)
    for department in departments:
        have = Membership.objects.filter(department=department).count()
        for n in range(have, per):
            role = MembershipRole.LEAD if n < leads else MembershipRole.CLERK
            user = accounts.user_create(
                actor=None,
                email=f"{role}{n:02d}.{department.slug}@bench.gov",
                password=None,
                full_name=f"{role.label} {n:02d} ({department.name})",
                email_verified=True,
            )
            accounts.membership_grant(actor=None, user=user, department=department, role=role)
    staff: dict[int, list[int]] = {}
    for department_id, user_id in Membership.objects.values_list("department_id", "user_id"):
        staff.setdefault(department_id, []).append(user_id)
    return staff


def _versions() -> tuple[list[_Version], list[float]]:
    from accounts.models import Department
    from services.constants import VersionStatus
    from services.models import ServiceVersion
    from workflows.engine import steps_of

    departments = {d.slug: d for d in Department.objects.all()}
    versions, weights = [], []
    published = ServiceVersion.objects.filter(status=VersionStatus.PUBLISHED).select_related(
        "service"
    )
    families: dict[str, list] = {}
    for version in published.order_by("service__slug"):
        slug = version.service.slug
        base = next(s for s in ("newborn", "moving-house", "start-business") if slug.startswith(s))
        district = slug[len(base) + 1 :]
        specs = {}
        for step in version.workflow["steps"]:
            department = departments[step["department"]]
            specs[f"{slug}:{step['id']}"] = _StepSpec(
                key=f"{slug}:{step['id']}",
                step=step["id"],
                name=step.get("name", step["id"]),
                department_id=department.pk,
                group_id=department.group_id,
                lead_group_id=department.lead_group_id,
                sla_days=step.get("sla_days", 5),
                fields_json=json.dumps(list(step.get("fields", [])), ensure_ascii=False),
            )
        families.setdefault(district, []).append(
            _Version(version.pk, slug, base, steps_of(slug, version.workflow), specs)
        )
    for district, members in families.items():
        for version in members:
            versions.append(version)
            weights.append(SERVICE_WEIGHTS.get(district, 0.1) / len(members))
    return versions, weights


def _condition_p(versions: list[_Version], weights: list[float], per_application: float) -> float:
    """The probability of each yes/no condition that gives `per_application` cases on average
    (every conditional step of the demo catalog hangs on one independent yes/no answer)."""
    total = sum(weights)
    fixed = (
        sum(
            w * sum(1 for s in v.steps if s.condition is None)
            for v, w in zip(versions, weights, strict=True)
        )
        / total
    )
    optional = (
        sum(
            w * sum(1 for s in v.steps if s.condition)
            for v, w in zip(versions, weights, strict=True)
        )
        / total
    )
    return min(1.0, max(0.0, (per_application - fixed) / optional)) if optional else 0.0


def _reserve(cur, table: str, count: int) -> int:
    """Take `count` consecutive ids of a table's sequence (nobody else writes while seeding)."""
    cur.execute(f"SELECT nextval(pg_get_serial_sequence('{table}', 'id'))")
    first = cur.fetchone()[0]
    cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), %s)", [first + count])
    return first


BULK_TABLES = (
    "accounts_user", "account_emailaddress", "services_citizenprofile",
    "services_application", "services_application_versions", "services_attachment",
    "workflows_case", "workflows_casegroupobjectpermission", "workflows_informationrequest",
    "audit_auditevent",
)  # fmt: skip


def _drop_secondary(cur) -> list[str]:
    """Drop the bulk tables' foreign keys, unique constraints and indexes (not primary keys);
    return the statements that rebuild them. Loading first and indexing after is what
    pg_restore does: one sort per index instead of a million random inserts, and one join
    per foreign key instead of a million look-ups."""
    cur.execute(
        "SELECT c.conrelid::regclass::text, c.conname, c.contype, pg_get_constraintdef(c.oid) "
        "FROM pg_constraint c WHERE c.conrelid::regclass::text = ANY(%s) "
        "AND c.contype IN ('f', 'u')",
        [list(BULK_TABLES)],
    )
    constraints = cur.fetchall()
    cur.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "WHERE i.indrelid::regclass::text = ANY(%s) AND NOT i.indisprimary "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
        [list(BULK_TABLES)],
    )
    indexes = cur.fetchall()
    # Foreign keys first: a unique constraint may be what a foreign key leans on.
    for table, name, _kind, _definition in sorted(constraints, key=lambda c: c[2] != "f"):
        cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _definition in indexes:
        cur.execute(f"DROP INDEX {name}")
    rebuild = [definition for _name, definition in indexes]
    rebuild += [
        f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
        for table, name, kind, definition in sorted(constraints, key=lambda c: c[2] != "u")
    ]
    return rebuild


def _rebuild(url: str, statements: list[str], workers: int) -> None:
    """Indexes and unique constraints on `workers` connections at once, then foreign keys."""
    from concurrent.futures import ThreadPoolExecutor

    import psycopg

    def run(batch: list[str]) -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SET maintenance_work_mem = '256MB'")
            for statement in batch:
                conn.execute(statement)

    foreign = [s for s in statements if "FOREIGN KEY" in s]
    others = [s for s in statements if "FOREIGN KEY" not in s]
    with ThreadPoolExecutor(max(1, workers)) as pool:
        list(pool.map(run, [[s] for s in others]))
    run(foreign)


MARKER = "bench seed: "


def seeded_scale(url: str) -> Scale | None:
    """The scale a database was completely seeded with (from the database comment), or None."""
    import psycopg

    server, name = url.rsplit("/", 1)
    try:
        with psycopg.connect(f"{server}/postgres") as conn:
            row = conn.execute(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
                [name],
            ).fetchone()
    except psycopg.Error:
        return None
    if not row or not row[0] or not row[0].startswith(MARKER):
        return None
    return Scale(**json.loads(row[0][len(MARKER) :]))


@contextlib.contextmanager
def _step(timings: dict[str, float], name: str, log) -> Iterator[None]:
    started = time.perf_counter()
    yield
    timings[name] = time.perf_counter() - started
    log(f"  {name}: {timings[name]:.1f}s")


def seed(
    database_url: str,
    scale: Scale,
    *,
    workers: int = 2,
    seed: int = 7,
    seal_audit: bool = False,
    log=print,
) -> dict[str, float]:
    """Fill a migrated, empty database with `scale`; returns seconds per step (and "total")."""
    global _P
    import psycopg

    setup_django(database_url)
    from django.contrib.auth.models import Permission
    from django.db import connections, transaction
    from django.utils import timezone

    from services.selectors import dictionary

    timings: dict[str, float] = {}
    started = time.perf_counter()
    log(f"seeding {database_url}: {scale}")
    with _step(timings, "departments, catalog and staff (actions)", log), transaction.atomic():
        _departments_and_catalog(scale)
        staff = _staff(scale)
        versions, weights = _versions()
        perms = {
            p.codename: p.pk
            for p in Permission.objects.filter(
                content_type__app_label="workflows",
                codename__in=["view_case", "change_case", "assign_case"],
            )
        }
        fields = dictionary()
    connections.close_all()  # the workers fork: they must not share the parent's connection
    with psycopg.connect(database_url, autocommit=True) as conn, conn.cursor() as cur:
        citizen_base = _reserve(cur, "accounts_user", scale.citizens)
        application_base = _reserve(cur, "services_application", scale.applications)
        cur.execute(
            "SELECT 1 FROM information_schema.columns "
            "WHERE table_name = 'services_attachment' AND column_name = 'key_id'"
        )
        attachment_key_id = cur.fetchone() is not None
        rebuild = _drop_secondary(cur)
    _P = _Plan(
        url=database_url,
        now=timezone.now(),
        seed=seed,
        citizens=scale.citizens,
        citizen_base=citizen_base,
        applications=scale.applications,
        application_base=application_base,
        target_cases=scale.cases,
        versions=versions,
        weights=weights,
        staff=staff,
        perm_view=perms["view_case"],
        perm_change=perms["change_case"],
        perm_assign=perms["assign_case"],
        dictionary=fields,
        attachment_key_id=attachment_key_id,
    )
    _P.condition_p = _condition_p(versions, weights, scale.cases / scale.applications)
    context = multiprocessing.get_context("fork")
    with context.Pool(workers) as pool:
        with _step(timings, f"{scale.citizens:,} citizens with sealed profiles (COPY)", log):
            ranges = [
                (i, min(i + CHUNK * 4, scale.citizens)) for i in range(0, scale.citizens, CHUNK * 4)
            ]
            sum(pool.imap_unordered(_citizens_chunk, ranges))
        label = f"{scale.applications:,} applications, their cases, permissions, audit (COPY)"
        with _step(timings, label, log):
            ranges = [
                (i, min(i + CHUNK, scale.applications)) for i in range(0, scale.applications, CHUNK)
            ]
            cases = sum(pool.imap_unordered(_applications_chunk, ranges))
        log(f"  {cases:,} cases")
    with _step(timings, f"rebuild {len(rebuild)} indexes and constraints", log):
        _rebuild(database_url, rebuild, workers)
    with (
        _step(timings, "vacuum analyze", log),
        psycopg.connect(database_url, autocommit=True) as conn,
    ):
        for table in BULK_TABLES:
            conn.execute(f"VACUUM (ANALYZE) {table}")
    # The dashboards' summary tables, filled as beat fills them: the refresh reads every case
    # (all are new to it) in (updated_at, id) batches, exactly the code that runs in production.
    from oversight.actions import summaries_refresh

    with _step(timings, "dashboard summaries (oversight.actions.summaries_refresh)", log):
        counted = summaries_refresh(batch=5_000)
    log(f"  {counted:,} cases counted")
    with psycopg.connect(database_url, autocommit=True) as conn:
        for table in ("oversight_casefact", "oversight_backlogcount", "oversight_decisioncount"):
            conn.execute(f"VACUUM (ANALYZE) {table}")
    if seal_audit:
        from audit.actions import audit_seal

        with _step(timings, "audit chain (audit_seal)", log):
            while audit_seal(batch=20_000):
                pass
    timings["total"] = time.perf_counter() - started
    timings["cases"] = cases
    with psycopg.connect(database_url, autocommit=True) as conn:
        name = database_url.rsplit("/", 1)[1]
        marker = MARKER + json.dumps(asdict(scale))
        conn.execute(f"COMMENT ON DATABASE \"{name}\" IS '{marker}'")
    log(f"  total: {timings['total']:.1f}s")
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", required=True, help="database name (created or replaced)")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--full", action="store_true", help="1,000,000 cases")
    size.add_argument("--cases", type=int, help="this many cases, the rest in proportion")
    parser.add_argument("--workers", type=int, default=2, help="seeding processes (default 2)")
    parser.add_argument("--seal", action="store_true", help="chain the audit events too")
    parser.add_argument("--json", help="write the timings to this file")
    args = parser.parse_args(argv)
    scale = FULL if args.full else scale_for(args.cases) if args.cases else SMALL
    started = time.perf_counter()
    url = create_database(args.database)
    migrated = time.perf_counter() - started
    print(f"  create and migrate: {migrated:.1f}s")
    timings = seed(url, scale, workers=args.workers, seal_audit=args.seal)
    timings["migrate"] = migrated
    if args.json:
        Path(args.json).write_text(json.dumps(timings, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
