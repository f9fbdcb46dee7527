import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from workbench.privacy import mask_email, mask_frame, mask_name, mask_phone, normalize_phone


def test_policy_examples():
    assert mask_name("홍길동") == "홍*동"
    assert mask_name("남궁민수") == "남**수"
    assert mask_phone("010-1234-5678") == "010-****-5678"
    assert mask_phone("1012345678") == "010-****-5678"
    assert mask_email("hong@example.co.kr") == "ho***@example.co.kr"


def test_mask_frame_masks_only_pii():
    df = pd.DataFrame({"customer_id": ["C1"], "name": ["김철수"], "phone": ["01099998888"],
                       "email": ["kim@x.kr"], "region": ["서울"]})
    out = mask_frame(df)
    assert out.loc[0, "name"] == "김*수" and out.loc[0, "phone"] == "010-****-8888"
    assert out.loc[0, "customer_id"] == "C1" and out.loc[0, "region"] == "서울"
    assert df.loc[0, "name"] == "김철수"  # the input is not changed


@given(st.text(alphabet="0123456789", min_size=8, max_size=8))
def test_masked_phone_never_shows_middle_digits(middle):
    phone = "010" + middle
    masked = mask_phone(phone)
    assert masked.startswith("010-") and masked.endswith(middle[-4:])
    assert middle[:4] not in masked.replace("010-", "", 1)[:4]
    assert normalize_phone(phone) == phone
