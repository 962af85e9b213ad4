"""Answers, files and keys the tests share (plain data: no fixtures, no database)."""

from __future__ import annotations

import base64
import datetime
from typing import Any

from services.validators import make_national_id

NATIONAL_ID = make_national_id("110105", datetime.date(1988, 3, 14), "417")
OTHER_NATIONAL_ID = make_national_id("310104", datetime.date(1975, 11, 2), "038")

# Ouyang Nana's answers: distinctive values, so a search of raw rows cannot match anything else by
# chance.
APPLICANT: dict[str, Any] = {
    "applicant.full_name": "Ouyang Nana",
    "applicant.national_id": NATIONAL_ID,
    "applicant.date_of_birth": "1988-03-14",
    "applicant.phone": "13987654321",
    "applicant.address": "Jianguo Road 88, Chaoyang, Beijing",
}
MOVING: dict[str, Any] = {
    **APPLICANT,
    "move.new_address": "Caoxi North Road 201, Xuhui, Shanghai",
    "move.date": "2026-12-15",
    "household.size": 4,
    "household.has_vehicle": False,
    "household.has_school_children": False,
}
BUSINESS: dict[str, Any] = {
    "business.name": "Nana Dumplings",
    "business.form": "sole_trader",
    "business.address": "Zhongguancun Street 1, Haidian, Beijing",
    "business.activity": "A small dumpling restaurant.",
    "business.start_date": "2027-01-10",
    "business.has_employees": False,
}
NEWBORN: dict[str, Any] = {
    **APPLICANT,
    "parent.full_name": "Li Hualong",
    "parent.national_id": OTHER_NATIONAL_ID,
    "child.full_name": "Ouyang Xiaohong",
    "child.date_of_birth": "2026-11-01",
    "child.sex": "female",
    "birth.hospital": "Peking Union Medical College Hospital",
    "birth.claim_allowance": False,
}
# The moving-house form's JSON-schema rule for its conditional field: a vehicle, then a plate.
VEHICLE_PLATE_RULE = {
    "if": {
        "properties": {"household.has_vehicle": {"const": True}},
        "required": ["household.has_vehicle"],
    },
    "then": {"required": ["vehicle.plate"]},
}
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"

# Li Wei moves from Beijing to Shanghai: the application the routing tests submit
# (`tests.factories.submit_moving`), without a vehicle or school children unless asked.
LI_WEI_MOVING: dict[str, Any] = {
    "applicant.full_name": "Li Wei",
    "applicant.national_id": "11010519491231002X",
    "applicant.date_of_birth": "1980-01-01",
    "applicant.phone": "13812345678",
    "applicant.address": "北京市东城区景山前街4号",
    "move.new_address": "上海市黄浦区人民大道200号",
    "move.date": "2026-11-01",
    "household.size": 3,
    "household.has_vehicle": False,
    "household.has_school_children": False,
}
# The same move for a household of two (the confirmation email tests).
LI_WEI_MOVING_OF_TWO: dict[str, Any] = {**LI_WEI_MOVING, "household.size": 2}

# Encryption keys set in the environment by the key rotation tests.
K1 = "k1:" + base64.b64encode(b"1" * 32).decode()
K2 = "k2:" + base64.b64encode(b"2" * 32).decode()
BLIND = base64.b64encode(b"b" * 32).decode()
