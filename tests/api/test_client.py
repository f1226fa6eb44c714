"""A client generated from the committed document runs the whole tour against a real service, with no hand-written
HTTP: `openapi-python-client` (a dev dependency; offline once installed) writes the package into a temporary
folder, and every step below calls one of its functions and checks the type it gets back."""

from __future__ import annotations

import datetime as dt
import importlib
import io
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.api.conftest import own_database
from tests.api.servers import make_keys, serving
from tests.samples import sk2

DOCUMENT = Path(__file__).parents[2] / "openapi" / "openapi.json"
GENERATOR = Path(sys.executable).with_name("openapi-python-client")
PACKAGE = "registry_client"
SKU, FILING_NO = "SK2-FTE-230", "2026120401"


@pytest.fixture(scope="module")
def client_package(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The generated package's folder on sys.path; its name is PACKAGE."""
    folder = tmp_path_factory.mktemp("generated")
    done = subprocess.run(
        [str(GENERATOR), "generate", "--path", str(DOCUMENT), "--output-path", str(folder / PACKAGE), "--meta", "none"],
        capture_output=True,
        text=True,
        check=False,
        cwd=folder,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # What the generator cannot say as a function: only the import's NDJSON and CSV bodies (the form carries both).
    output = (done.stdout + done.stderr).splitlines()
    warnings = [line for line in output if line.startswith("Unsupported content type")]
    assert warnings == ["Unsupported content type application/x-ndjson", "Unsupported content type text/csv"]
    sys.path.insert(0, str(folder))
    try:
        yield PACKAGE
    finally:
        sys.path.remove(str(folder))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


class Generated:
    """The generated package: `api("products.create_product")`, `model("ProductIn")`."""

    def __init__(self, package: str) -> None:
        self.package = package
        self.models = importlib.import_module(f"{package}.models")
        self.types = importlib.import_module(f"{package}.types")

    def api(self, name: str) -> ModuleType:
        return importlib.import_module(f"{self.package}.api.{name}")

    def model(self, name: str) -> Any:
        return getattr(self.models, name)

    def client(self, url: str, key: str) -> Any:
        module = importlib.import_module(self.package)
        return module.AuthenticatedClient(base_url=url, token=key, raise_on_unexpected_status=True)


def test_a_generated_client_runs_the_whole_tour(client_package: str, migrated_url: str, tmp_path: Path) -> None:
    gen = Generated(client_package)
    with own_database(migrated_url, tmp_path, "registry_client_tour") as url:
        keys = make_keys(url, "catalog", "reviewer", "declaration", "auditor", "admin")
        with serving(url) as base:
            steps = _tour(gen, {role: gen.client(base, key) for role, key in keys.items()})
    assert steps == 22


def _tour(gen: Generated, as_role: dict[str, Any]) -> int:
    """Every step through a generated function; each checks its answer's type and content. Returns the steps."""
    m = gen.model
    catalog, reviewer, declaration = as_role["catalog"], as_role["reviewer"], as_role["declaration"]
    auditor, admin = as_role["auditor"], as_role["admin"]
    today = dt.date.today()
    record = sk2(today=today)
    steps = 0

    def step(answer: Any, status: int, kind: Any = None) -> Any:
        nonlocal steps
        steps += 1
        assert answer.status_code == status, (steps, answer.status_code, answer.content[:500])
        if kind is not None:
            assert isinstance(answer.parsed, kind), (steps, type(answer.parsed))
        return answer.parsed

    # 1. Create: 201, the record typed, Location and ETag as the document states.
    created = gen.api("products.create_product").sync_detailed(client=catalog, body=m("ProductIn").from_dict(record))
    out = step(created, 201, m("ProductOut"))
    assert (out.sku, out.version, out.filing.status.value) == (SKU, 1, "unfiled")
    assert (created.headers["location"], created.headers["etag"]) == (f"/v1/products/{SKU}", '"1"')
    # 2. Validate a draft: no violations.
    draft = m("ProductDraft").from_dict(record)
    report = step(gen.api("products.validate_product").sync_detailed(client=catalog, body=draft), 200)
    assert report.valid is True
    # 3. Read, typed.
    read = step(gen.api("products.read_product").sync_detailed(SKU, client=auditor), 200, m("ProductOut"))
    assert read.brand == "SK-II"
    # 4. PATCH with If-Match.
    patch = m("ProductPatch").from_dict({"usage": "早晚各一次"})
    changed = gen.api("products.change_product").sync_detailed(SKU, client=catalog, body=patch, if_match='"1"')
    assert step(changed, 200, m("ProductOut")).version == 2
    assert changed.headers["etag"] == '"2"'
    # 5. Submit, 6. approve.
    action = m("FilingActionAction")
    filing = gen.api("filings_and_history.filing_action")
    submitted = step(filing.sync_detailed(SKU, action.SUBMIT, client=catalog, if_match='"2"'), 200, m("ProductOut"))
    assert submitted.filing.status.value == "under_review"
    body = m("ActionIn").from_dict(
        {"filing_no": FILING_NO, "valid_until": (today + dt.timedelta(days=700)).isoformat()}
    )
    approved = step(filing.sync_detailed(SKU, action.APPROVE, client=reviewer, body=body), 200, m("ProductOut"))
    assert approved.filing.filing_no == FILING_NO
    # 7. Look-up one, 8. many, 9. HEAD (the GET's headers, no body), 10. 304 to its ETag.
    lookup = gen.api("declaration.lookup_one").sync_detailed(SKU, client=declaration)
    assert step(lookup, 200, m("LookupOut")).declarable is True
    many = gen.api("declaration.lookup_many").sync_detailed(
        client=declaration, body=m("SkusIn").from_dict({"skus": [SKU, "NOPE"]})
    )
    page = step(many, 200, m("LookupPage"))
    assert ([item.sku for item in page.items], page.missing) == ([SKU], ["NOPE"])
    head = gen.api("declaration.lookup_one_head").sync_detailed(SKU, client=declaration)
    assert step(head, 200) is None
    assert head.headers["etag"] == lookup.headers["etag"]
    again = gen.api("declaration.lookup_one").sync_detailed(
        SKU, client=declaration, if_none_match=lookup.headers["etag"]
    )
    step(again, 304)
    # 11. The order check.
    order = m("DeclarationIn").from_dict({"items": [{"sku": SKU, "quantity": 1, "unit_price": "1090.00"}]})
    priced = step(gen.api("declaration.check_order").sync_detailed(client=declaration, body=order), 200)
    assert isinstance(priced, m("DeclarationOut"))
    assert priced.lines[0].gcode == "3304990099"
    # 12. Import NDJSON as a file, 13. export CSV, 14. import that CSV as a file: unchanged.
    ndjson = io.BytesIO(
        b'{"sku":"IMP-1","brand":"SK-II","name_cn":"\xe7\xb2\xbe\xe5\x8d\x8e","spec":"230 ml",'
        b'"category":"cosmetics","hs_code":"3304990099","origin_country":"JP"}\n'
    )
    imports = gen.api("bulk_import.import_products")
    files = m("ImportProductsFilesBody")
    file = gen.types.File
    rows = files(file=file(payload=ndjson, file_name="rows.ndjson", mime_type="application/x-ndjson"))
    imported = step(imports.sync_detailed(client=catalog, body=rows, mode=m("Mode").PARTIAL), 200, m("ImportReport"))
    assert (imported.created, imported.rejected) == (1, 0)
    exported = step(gen.api("products.export_products").sync_detailed(client=auditor), 200, str)
    assert exported.splitlines()[0].startswith("sku,")
    assert len(exported.splitlines()) == 3
    csv_file = files(file=file(payload=io.BytesIO(exported.encode()), file_name="catalog.csv"))
    reimported = step(imports.sync_detailed(client=catalog, body=csv_file, mode=m("Mode").PARTIAL), 200)
    assert (reimported.total, reimported.unchanged) == (2, 2)
    # 15. The expiring report as JSON, 16. as CSV.
    report_json = gen.api("alerts_and_reports.expiring_report").sync_detailed(client=auditor, within_days=3000)
    assert [row.sku for row in step(report_json, 200, m("ExpiringReport")).items] == [SKU]
    report_csv = gen.api("alerts_and_reports.expiring_report_csv").sync_detailed(client=auditor, within_days=3000)
    assert SKU in step(report_csv, 200, str)
    # 17. History, 18. the audit chain, 19. keys, 20. statistics, 21. a filing number, 22. alerts.
    history = step(gen.api("filings_and_history.product_history").sync_detailed(SKU, client=auditor), 200)
    assert [event.action for event in history.items] == ["create", "update", "submit", "approve"]
    verified = step(gen.api("filings_and_history.verify_audit").sync_detailed(client=auditor), 200, m("VerifyOut"))
    assert verified.ok is True
    listed = step(gen.api("keys.list_keys").sync_detailed(client=admin), 200, list)
    assert {str(key.role) for key in listed} >= {"catalog", "reviewer", "declaration", "auditor", "admin"}
    figures = step(gen.api("filings_and_history.filing_stats").sync_detailed(client=auditor), 200, m("FilingStats"))
    assert (figures.submissions, figures.first_pass_rate) == (1, 1.0)
    by_number = gen.api("filings_and_history.filing_by_number").sync_detailed(FILING_NO, client=declaration)
    assert step(by_number, 200, m("FilingOut")).sku == SKU
    alerts = step(gen.api("alerts_and_reports.list_alerts").sync_detailed(client=auditor), 200, m("AlertPage"))
    assert alerts.items == []
    return steps
