from mlservice.training.fingerprint import data_hash

ROWS = ([1, 2], ["a text", "another"], ["x", "y"])


def _hash(ids, texts, labels, **settings):
    return data_hash(
        ids, texts, labels, **{"classifier": "linear_svc", "verified_only": False, **settings}
    )


def test_the_same_rows_and_settings_hash_alike():
    assert _hash(*ROWS) == _hash(*ROWS)


def test_any_change_to_a_row_or_a_setting_changes_the_hash():
    base = _hash(*ROWS)
    assert _hash([1, 3], *ROWS[1:]) != base
    assert _hash(ROWS[0], ["a text", "other"], ROWS[2]) != base
    assert _hash(*ROWS[:2], ["x", "z"]) != base
    assert _hash([1], ["a text"], ["x"]) != base
    assert _hash(*ROWS, classifier="svc") != base
    assert _hash(*ROWS, verified_only=True) != base


def test_row_boundaries_cannot_be_shifted_into_the_same_hash():
    assert _hash([1], ["ab"], ["c"]) != _hash([1], ["a"], ["bc"])
