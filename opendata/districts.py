"""The district of an address: the coarse, non-identifying part a release counts by.

Addresses are free text written the Chinese way, from the largest unit to the smallest
(北京市东城区景山前街4号). The district is the county-level unit after the province and the
prefecture-level city (区, 县, 旗 or a county-level 市), named with its city so that two
cities' 鼓楼区 stay apart: 北京市东城区, 江苏省南京市鼓楼区 → 南京市鼓楼区. Everything after it
(street, number, building, flat) is dropped. An address the pattern does not read gives no
district (counted as "other or unknown"), never a guess. Pure: no database.
"""

from __future__ import annotations

import re

OTHER = "_other"

# Province-level unit, then (optionally) the prefecture-level city, then the district. Each
# part is short: a long "district" is the free text of someone who wrote no district.
_PATTERN = re.compile(
    r"^\s*"
    r"(?:(?P<province>[\u4e00-\u9fff]{2,7}?(?:省|自治区|特别行政区))"
    r"|(?P<municipality>北京市|上海市|天津市|重庆市))?"
    r"(?P<city>[\u4e00-\u9fff]{2,9}?(?:市|自治州|地区|盟))?"
    r"(?P<district>[\u4e00-\u9fff]{1,8}?(?:区|县|旗|市))"
)


def district_of(address: object) -> str:
    """The district of an address (`OTHER` when there is none to read)."""
    if not isinstance(address, str):
        return OTHER
    match = _PATTERN.match(address)
    if match is None:
        return OTHER
    city = match["municipality"] or match["city"] or ""
    district = match["district"]
    if not match["municipality"] and not match["city"] and not match["province"]:
        # A bare "something区" at the start with no city before it is too easily a name or a
        # building; count it as unknown.
        return OTHER
    if city and district == city:
        return OTHER
    return f"{city}{district}"
