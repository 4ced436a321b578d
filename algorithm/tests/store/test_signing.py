from mlservice.store import signing

METADATA = {"version": "v1", "sha256": {"model.pickle": "ab" * 32}, "metrics": {"f1": 0.5}}


def test_a_signed_metadata_verifies_with_its_key():
    signed = {**METADATA, "signature": signing.sign(METADATA, "key")}
    assert signing.is_signed_by(signed, "key")


def test_the_signature_ignores_key_order_and_itself():
    reordered = dict(reversed(list(METADATA.items())))
    assert signing.sign(METADATA, "key") == signing.sign(reordered, "key")
    assert signing.sign({**METADATA, "signature": "anything"}, "key") == signing.sign(
        METADATA, "key"
    )


def test_any_change_or_another_key_breaks_it():
    signed = {**METADATA, "signature": signing.sign(METADATA, "key")}
    assert not signing.is_signed_by(signed, "other key")
    tampered = {**signed, "metrics": {"f1": 0.99}}
    assert not signing.is_signed_by(tampered, "key")
    assert not signing.is_signed_by(METADATA, "key")  # unsigned
    assert not signing.is_signed_by({**METADATA, "signature": 42}, "key")
