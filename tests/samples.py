"""Records from the business cases the service serves."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

TODAY = dt.date(2026, 11, 22)


def _day(offset: int, today: dt.date = TODAY) -> str:
    return (today + dt.timedelta(days=offset)).isoformat()


def sk2(today: dt.date = TODAY, **overrides: Any) -> dict[str, Any]:
    """SK-II Facial Treatment Essence 230 ml: passes every rule."""
    record: dict[str, Any] = {
        "sku": "SK2-FTE-230",
        "brand": "SK-II",
        "name_cn": "SK-II 护肤精华露",
        "name_foreign": "Facial Treatment Essence",
        "spec": "230 ml",
        "category": "cosmetics",
        "hs_code": "3304990099",
        "ciq_code": None,
        "origin_country": "JP",
        "ingredients": ["galactomyces ferment filtrate", "butylene glycol", "water", "pentylene glycol"],
        "shelf_life_months": 36,
        "usage": "早晚洁面后取适量轻拍于面部",
        "images": ["https://img.example.com/sk2/fte-230.jpg"],
        "documents": [
            {
                "kind": "brand_authorization",
                "number": "BA-2025-0417",
                "issuer": "SK-II Japan",
                "valid_from": _day(-300, today),
                "valid_until": _day(400, today),
            },
            {
                "kind": "hygiene_certificate",
                "number": "HC-JP-88231",
                "issuer": "Japan Cosmetic Industry Association",
                "valid_from": _day(-200, today),
                "valid_until": _day(500, today),
            },
        ],
    }
    record.update(copy.deepcopy(overrides))
    return record


def shiseido(today: dt.date = TODAY, **overrides: Any) -> dict[str, Any]:
    """Shiseido face wash 120 g."""
    record = sk2(
        today,
        sku="SHISEIDO-FW-120",
        brand="Shiseido",
        name_cn="资生堂洗颜专科洁面乳",
        name_foreign="Senka Perfect Whip",
        spec="120g",
        ingredients=["water", "stearic acid", "myristic acid", "glycerin"],
        images=["https://img.example.com/shiseido/fw-120.jpg"],
    )
    record.update(copy.deepcopy(overrides))
    return record


def beef(today: dt.date = TODAY) -> dict[str, Any]:
    """Chilled boneless beef: fresh meat may not enter through this channel."""
    return sk2(
        today,
        sku="BEEF-CHILLED-1KG",
        brand="Pampas Grill",
        name_cn="冰鲜去骨牛肉",
        name_foreign="Chilled boneless beef",
        spec="1kg",
        category="food",
        hs_code="0201300000",
        origin_country="AR",
        ingredients=["beef"],
        shelf_life_months=1,
        documents=[
            {
                "kind": "brand_authorization",
                "number": "BA-AR-1",
                "issuer": "Pampas Grill",
                "valid_from": _day(-10, today),
                "valid_until": _day(300, today),
            },
            {
                "kind": "certificate_of_origin",
                "number": "CO-AR-2",
                "issuer": "Cámara Argentina de Comercio",
                "valid_from": _day(-10, today),
                "valid_until": _day(300, today),
            },
        ],
    )
