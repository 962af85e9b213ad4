"""The demo data of `seed_demo`: departments and accounts. Kept as data, applied by actions."""

DEPARTMENTS: list[tuple[str, str, str]] = [
    ("civil-registry", "Civil Registry Office", "registry@demo.gov"),
    ("health-insurance", "Health Insurance Fund", "insurance@demo.gov"),
    ("social-security", "Social Security Bureau", "social@demo.gov"),
    ("household-registration", "Household Registration (Public Security)", "hukou@demo.gov"),
    ("tax", "Tax Bureau", "tax@demo.gov"),
    ("transport", "Transport and Vehicles Bureau", "transport@demo.gov"),
    ("education", "Education Bureau", "education@demo.gov"),
    ("market-regulation", "Market Regulation Administration", "market@demo.gov"),
]

CITIZENS: list[tuple[str, str]] = [
    ("citizen@demo.gov", "Li Wei"),
    ("citizen2@demo.gov", "Zhang Min"),
]
