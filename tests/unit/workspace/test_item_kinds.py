"""Item kinds are stored in a column of fixed length: every kind must fit it (PostgreSQL refuses
a longer one; SQLite would not notice)."""
from whistle.cases import models
from whistle.cases.models import CaseItem


def test_every_item_kind_fits_its_column():
    kinds = {value for name, value in vars(models).items() if name.startswith("ITEM_")}
    assert models.ITEM_INTERNAL_ATTACHMENT_META in kinds
    assert models.ITEM_INTERNAL_ATTACHMENT_META in models.TEAM_KEY_ITEMS
    assert models.ITEM_ATTACHMENT_META not in models.TEAM_KEY_ITEMS
    width = CaseItem.__table__.c.kind.type.length
    assert [kind for kind in kinds if len(kind) > width] == []
