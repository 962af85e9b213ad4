"""The demo catalog of `seed_demo`: a data dictionary and three life events, as data."""

from __future__ import annotations

from typing import Any

P, S, PUB = "personal", "sensitive", "public"
ZH = "zh-hans"


def _f(
    key: str, label: str, type_: str, sensitivity: str, example: Any, **extra: Any
) -> dict[str, Any]:
    return {
        "key": key,
        "label": label,
        "type": type_,
        "sensitivity": sensitivity,
        "example": example,
        **extra,
    }


FIELDS: list[dict[str, Any]] = [
    _f(
        "applicant.full_name",
        "Your full name",
        "string",
        P,
        "王小明",
        profile_field=True,
        validation={"min_length": 2, "max_length": 100},
        translations={ZH: {"label": "您的姓名"}},
    ),
    _f(
        "applicant.national_id",
        "Your national ID number",
        "national_id",
        S,
        "11010519491231002X",
        profile_field=True,
        help_text="The 18-character resident identity number on your ID card.",
        translations={ZH: {"label": "您的公民身份号码"}},
    ),
    _f(
        "applicant.date_of_birth",
        "Your date of birth",
        "date",
        P,
        "1990-05-17",
        profile_field=True,
        validation={"not_future": True},
    ),
    _f(
        "applicant.phone",
        "Your mobile phone number",
        "phone",
        P,
        "13812345678",
        profile_field=True,
        help_text="11 digits. We text you when a department needs something.",
    ),
    _f("applicant.email", "Your email address", "email", P, "wang@example.com", profile_field=True),
    _f(
        "applicant.address",
        "Your current address",
        "address",
        P,
        "北京市东城区景山前街4号",
        profile_field=True,
        validation={"min_length": 5, "max_length": 300},
    ),
    _f(
        "child.full_name",
        "The child's full name",
        "string",
        P,
        "王小红",
        validation={"min_length": 2, "max_length": 100},
    ),
    _f(
        "child.date_of_birth",
        "The child's date of birth",
        "date",
        P,
        "2026-10-01",
        validation={"not_future": True},
    ),
    _f(
        "child.sex",
        "The child's sex",
        "enum",
        P,
        "female",
        choices=[{"value": "female", "label": "Female"}, {"value": "male", "label": "Male"}],
    ),
    _f(
        "birth.hospital",
        "Hospital or place of birth",
        "string",
        PUB,
        "Peking Union Medical College Hospital",
        validation={"max_length": 200},
    ),
    _f(
        "birth.certificate",
        "Medical birth certificate",
        "file",
        S,
        None,
        help_text="A PDF, JPEG or PNG scan of the certificate the hospital gave you, at most 5 MB.",
        validation={
            "max_size_mb": 5,
            "content_types": ["application/pdf", "image/jpeg", "image/png"],
        },
    ),
    _f(
        "birth.claim_allowance",
        "Do you want to claim the childbirth allowance?",
        "boolean",
        PUB,
        True,
    ),
    _f(
        "parent.full_name",
        "The other parent's full name",
        "string",
        P,
        "李华",
        validation={"min_length": 2, "max_length": 100},
    ),
    _f(
        "parent.national_id",
        "The other parent's national ID number",
        "national_id",
        S,
        "11010519491231002X",
    ),
    _f(
        "bank.account",
        "Bank account number for payments",
        "string",
        S,
        "6222020200112233445",
        validation={"pattern": r"^\d{12,19}$"},
        help_text="12 to 19 digits, no spaces.",
    ),
    _f(
        "move.new_address",
        "Your new address",
        "address",
        P,
        "上海市黄浦区人民大道200号",
        validation={"min_length": 5, "max_length": 300},
    ),
    _f("move.date", "Date of the move", "date", PUB, "2026-11-01"),
    _f(
        "household.size",
        "How many people live in your household?",
        "integer",
        PUB,
        3,
        validation={"minimum": 1, "maximum": 30},
    ),
    _f("household.has_vehicle", "Do you own a motor vehicle?", "boolean", PUB, False),
    _f(
        "household.has_school_children",
        "Do you have children of school age (6 to 15)?",
        "boolean",
        PUB,
        False,
    ),
    _f(
        "vehicle.plate",
        "Vehicle registration plate",
        "string",
        P,
        "京A12345",
        validation={"min_length": 5, "max_length": 10},
    ),
    _f(
        "school.child_name",
        "Name of the school-age child",
        "string",
        P,
        "王小刚",
        validation={"min_length": 2, "max_length": 100},
    ),
    _f(
        "school.grade",
        "School grade from next term",
        "enum",
        PUB,
        "primary-3",
        choices=[{"value": f"primary-{n}", "label": f"Primary {n}"} for n in range(1, 7)]
        + [{"value": f"junior-{n}", "label": f"Junior secondary {n}"} for n in range(1, 4)],
    ),
    _f(
        "business.name",
        "Business name",
        "string",
        PUB,
        "Xiaoming Noodles",
        validation={"min_length": 2, "max_length": 120},
    ),
    _f(
        "business.form",
        "Legal form",
        "enum",
        PUB,
        "sole_trader",
        choices=[
            {"value": "sole_trader", "label": "Individual business"},
            {"value": "llc", "label": "Limited liability company"},
            {"value": "partnership", "label": "Partnership"},
        ],
    ),
    _f(
        "business.address",
        "Business address",
        "address",
        PUB,
        "北京市海淀区中关村大街1号",
        validation={"min_length": 5, "max_length": 300},
    ),
    _f(
        "business.activity",
        "What will the business do?",
        "text",
        PUB,
        "A small noodle restaurant.",
        validation={"min_length": 10, "max_length": 1000},
    ),
    _f("business.start_date", "Planned start date", "date", PUB, "2026-12-01"),
    _f("business.has_employees", "Will you employ staff?", "boolean", PUB, True),
    _f(
        "business.employees",
        "How many employees at the start?",
        "integer",
        PUB,
        4,
        validation={"minimum": 1, "maximum": 10000},
    ),
]

_APPLICANT = [
    "applicant.full_name",
    "applicant.national_id",
    "applicant.date_of_birth",
    "applicant.phone",
    "applicant.email",
    "applicant.address",
]


def _req(*keys: str, condition: dict | None = None) -> list[dict[str, Any]]:
    return [{"key": k, "required": True, "condition": condition} for k in keys]


def _opt(*keys: str, condition: dict | None = None) -> list[dict[str, Any]]:
    return [{"key": k, "required": False, "condition": condition} for k in keys]


_ALLOWANCE = {"field": "birth.claim_allowance", "equals": True}
_VEHICLE = {"field": "household.has_vehicle", "equals": True}
_SCHOOL = {"field": "household.has_school_children", "equals": True}
_EMPLOYEES = {"field": "business.has_employees", "equals": True}

SERVICES: list[dict[str, Any]] = [
    {
        "slug": "newborn",
        "name": "Birth of a child",
        "description": "Register the birth, the child's household registration and health "
        "insurance, "
        "and claim the childbirth allowance, with one application.",
        "keywords": "baby birth newborn child registration hukou insurance allowance",
        "fields": _req(*_APPLICANT[:4])
        + _opt("applicant.email")
        + _req("applicant.address")
        + _req(
            "parent.full_name",
            "parent.national_id",
            "child.full_name",
            "child.date_of_birth",
            "child.sex",
            "birth.hospital",
            "birth.certificate",
            "birth.claim_allowance",
        )
        + _req("bank.account", condition=_ALLOWANCE),
        "workflow": {
            "steps": [
                {
                    "id": "register-birth",
                    "name": "Birth registration",
                    "department": "civil-registry",
                    "fields": [
                        "applicant.full_name",
                        "applicant.national_id",
                        "parent.full_name",
                        "parent.national_id",
                        "child.full_name",
                        "child.date_of_birth",
                        "child.sex",
                        "birth.hospital",
                        "birth.certificate",
                    ],
                    "depends_on": [],
                    "sla_days": 5,
                    "on_reject": "cancel_dependents",
                },
                {
                    "id": "household",
                    "name": "Household registration of the child",
                    "department": "household-registration",
                    "fields": [
                        "applicant.full_name",
                        "applicant.national_id",
                        "applicant.address",
                        "child.full_name",
                        "child.date_of_birth",
                        "child.sex",
                    ],
                    "depends_on": ["register-birth"],
                    "sla_days": 10,
                    "on_reject": "cancel_dependents",
                },
                {
                    "id": "insurance",
                    "name": "Health insurance for the child",
                    "department": "health-insurance",
                    "fields": [
                        "applicant.full_name",
                        "applicant.national_id",
                        "applicant.phone",
                        "child.full_name",
                        "child.date_of_birth",
                    ],
                    "depends_on": ["register-birth"],
                    "sla_days": 10,
                    "on_reject": "continue",
                },
                {
                    "id": "allowance",
                    "name": "Childbirth allowance",
                    "department": "social-security",
                    "fields": [
                        "applicant.full_name",
                        "applicant.national_id",
                        "child.date_of_birth",
                        "bank.account",
                    ],
                    "depends_on": ["register-birth"],
                    "condition": _ALLOWANCE,
                    "sla_days": 15,
                    "on_reject": "continue",
                },
            ]
        },
    },
    {
        "slug": "moving-house",
        "name": "Moving house",
        "description": "Tell the household registration office, the tax bureau and, where it "
        "applies, "
        "the vehicle and school authorities about your new address at once.",
        "keywords": "move moving address relocation hukou vehicle school",
        "fields": _req(*_APPLICANT[:4])
        + _opt("applicant.email")
        + _req("applicant.address")
        + _req(
            "move.new_address",
            "move.date",
            "household.size",
            "household.has_vehicle",
            "household.has_school_children",
        )
        + _req("vehicle.plate", condition=_VEHICLE)
        + _req("school.child_name", "school.grade", condition=_SCHOOL),
        "workflow": {
            "steps": [
                {
                    "id": "household",
                    "name": "Change of household registration",
                    "department": "household-registration",
                    "fields": [
                        "applicant.full_name",
                        "applicant.national_id",
                        "applicant.address",
                        "move.new_address",
                        "move.date",
                        "household.size",
                    ],
                    "depends_on": [],
                    "sla_days": 10,
                    "on_reject": "cancel_dependents",
                },
                {
                    "id": "tax",
                    "name": "Tax address update",
                    "department": "tax",
                    "fields": [
                        "applicant.full_name",
                        "applicant.national_id",
                        "move.new_address",
                        "move.date",
                    ],
                    "depends_on": [],
                    "sla_days": 5,
                    "on_reject": "continue",
                },
                {
                    "id": "vehicle",
                    "name": "Vehicle registration address",
                    "department": "transport",
                    "fields": [
                        "applicant.full_name",
                        "applicant.national_id",
                        "move.new_address",
                        "vehicle.plate",
                    ],
                    "depends_on": [],
                    "condition": _VEHICLE,
                    "sla_days": 5,
                    "on_reject": "continue",
                },
                {
                    "id": "school",
                    "name": "School place",
                    "department": "education",
                    "fields": [
                        "applicant.full_name",
                        "applicant.phone",
                        "move.new_address",
                        "school.child_name",
                        "school.grade",
                    ],
                    "depends_on": ["household"],
                    "condition": _SCHOOL,
                    "sla_days": 15,
                    "on_reject": "continue",
                },
            ]
        },
    },
    {
        "slug": "start-business",
        "name": "Starting a business",
        "description": "Register your business, get it known to the tax bureau and, if you "
        "employ staff, "
        "to social security, with one application.",
        "keywords": "business company shop register licence tax employer",
        "fields": _req(*_APPLICANT[:4])
        + _opt("applicant.email")
        + _req("applicant.address")
        + _req(
            "business.name",
            "business.form",
            "business.address",
            "business.activity",
            "business.start_date",
            "business.has_employees",
        )
        + _req("business.employees", condition=_EMPLOYEES),
        "workflow": {
            "steps": [
                {
                    "id": "register",
                    "name": "Business registration",
                    "department": "market-regulation",
                    "fields": [
                        "applicant.full_name",
                        "applicant.national_id",
                        "applicant.address",
                        "business.name",
                        "business.form",
                        "business.address",
                        "business.activity",
                        "business.start_date",
                    ],
                    "depends_on": [],
                    "sla_days": 5,
                    "on_reject": "cancel_dependents",
                },
                {
                    "id": "tax",
                    "name": "Tax registration",
                    "department": "tax",
                    "fields": [
                        "applicant.full_name",
                        "applicant.national_id",
                        "business.name",
                        "business.form",
                        "business.address",
                        "business.start_date",
                    ],
                    "depends_on": ["register"],
                    "sla_days": 5,
                    "on_reject": "continue",
                },
                {
                    "id": "employer",
                    "name": "Employer registration",
                    "department": "social-security",
                    "fields": [
                        "applicant.full_name",
                        "applicant.national_id",
                        "business.name",
                        "business.address",
                        "business.employees",
                    ],
                    "depends_on": ["register"],
                    "condition": _EMPLOYEES,
                    "sla_days": 10,
                    "on_reject": "continue",
                },
            ]
        },
    },
]
