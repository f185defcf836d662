from hwcost import glossary


def test_every_term_has_unit_and_meaning():
    df = glossary.table()
    assert df["name"].is_unique
    assert (df["unit"].str.len() > 0).all() and (df["meaning"].str.len() > 10).all()


def test_suffixes_agree_with_units():
    units = dict(zip(glossary.table()["name"], glossary.table()["unit"]))
    for name, unit in units.items():
        if name.endswith("_s"):
            assert unit in ("s", "tokens/s", "1/s"), name
        if name.endswith("_gb"):
            assert unit == "GB", name
