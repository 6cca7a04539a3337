"""Per-product holding features: which products an account holds at each observation date, core vs add-on
counts, and how recently its holdings changed.

Rules:

* built only when the data has more than one product (otherwise ``products_held`` in the contract family says
  it all); the products given a ``holds_<product>`` column of their own are the :data:`TOP_PRODUCTS` with the
  most holders over all known (non-trial) subscriptions;
* a product is an *add-on* when ``products.is_addon`` says so; when no product has ``is_addon`` filled, it is
  inferred: a product almost never held alone (by under :data:`ALONE_SHARE` of its holders at the build's
  ``as_of``) is an add-on, unless that would make every product one (then none is);
* a product is *added* on the start of a subscription row when the account held no row of that product the day
  before (a price change, which ends one row and starts the next, is no change), and *dropped* on the end of a
  row when no row of that product runs on from that day. The first start of an account is a change too (so
  ``months_since_holdings_change`` is its tenure when nothing changed since) but not an addition.

Everything is point in time: rows and end dates as known at the build's ``as_of``, and for each observation date
only starts and ends on or before it (a successor row that decides whether an end was a drop starts on or before
that end, so it is known whenever the end is).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from retain.models.families import Family, FeatureContext, _int, _since, slug
from retain.models.outcomes import paying_subscriptions, running
from retain.warehouse import Warehouse

TOP_PRODUCTS = 12        # products with a holds_<product> column of their own, by number of holders
ALONE_SHARE = 0.01       # an add-on is held alone by fewer than this share of its holders
DAYS_PER_MONTH = 30.4


def top_products(wh: Warehouse, day, n: int = TOP_PRODUCTS) -> tuple[str, ...]:
    """The ``n`` products with the most holders over all known paying subscriptions (empty when only one)."""
    subs = paying_subscriptions(wh, day)
    top = wh.execute(subs.group_by("product_id").aggregate(holders=subs.account_id.nunique())
                     .order_by([ibis.desc("holders"), "product_id"]))
    if len(top) < 2:
        return ()
    return tuple(str(p) for p in top["product_id"].head(n))


def addon_products(wh: Warehouse, day) -> tuple[str, ...]:
    """Products that are add-ons: ``products.is_addon`` when filled for any product, else inferred (module rules)."""
    products = wh.as_of("products", day)
    flagged = wh.execute(products.filter(products.is_addon.notnull()).select("product_id", "is_addon"))
    if len(flagged):
        return tuple(sorted(str(p) for p in flagged.loc[flagged["is_addon"].astype(bool), "product_id"]))
    subs = paying_subscriptions(wh, day)
    lit = ibis.literal(day, type="date")
    now = subs.filter((subs.started_on <= lit) & (subs.ended_on.isnull() | (subs.ended_on > lit)))
    held = now.select("account_id", "product_id").distinct()
    per_account = held.group_by("account_id").aggregate(n=held.count())
    j = held.join(per_account, "account_id")
    shares = wh.execute(j.group_by("product_id").aggregate(
        holders=j.count(), alone=_int(j.n == 1).sum()))
    if shares.empty:
        return ()
    addon = shares[shares["alone"] < ALONE_SHARE * shares["holders"]]["product_id"]
    return () if len(addon) == len(shares) else tuple(sorted(str(p) for p in addon))


def _changes(ctx: FeatureContext) -> ir.Table:
    """Every product addition and drop: ``account_id``, ``day``, ``added`` (1/0), ``dropped`` (1/0), ``first``
    (1 on the account's first start)."""
    subs = paying_subscriptions(ctx.wh, ctx.anchor).select("account_id", "product_id", "started_on", "ended_on")
    prev = subs.view()
    adds = subs.anti_join(prev, [subs.account_id == prev.account_id, subs.product_id == prev.product_id,
                                 prev.started_on < subs.started_on,
                                 prev.ended_on.isnull() | (prev.ended_on >= subs.started_on)])
    adds = adds.select("account_id", "product_id", day=adds.started_on).distinct()
    ended = subs.filter(subs.ended_on.notnull())
    nxt = subs.view()
    drops = ended.anti_join(nxt, [ended.account_id == nxt.account_id, ended.product_id == nxt.product_id,
                                  nxt.started_on <= ended.ended_on,
                                  nxt.ended_on.isnull() | (nxt.ended_on > ended.ended_on)])
    drops = drops.select("account_id", "product_id", day=drops.ended_on).distinct()
    first = subs.group_by("account_id").aggregate(first_day=subs.started_on.min())
    adds = adds.join(first, "account_id").select(
        "account_id", "day", added=_int(ibis._.day > ibis._.first_day), dropped=ibis.literal(0, type="int8"))
    drops = drops.select("account_id", "day", added=ibis.literal(0, type="int8"),
                         dropped=ibis.literal(1, type="int8"))
    return adds.union(drops, distinct=False)


def holdings(ctx: FeatureContext) -> Family:
    """``holds_<product>`` (0/1) for the top products, ``core_products`` and ``addon_products`` held (when
    add-ons exist), ``months_since_holdings_change``, ``products_added_365d`` and ``products_dropped_365d``."""
    dates = ctx.pop.select("as_of").distinct()
    r = running(ctx.wh, ctx.grid, dates=dates)
    cols: dict[str, ir.Scalar] = {
        f"holds_{slug(p)}": _int(r.product_id == p).max().cast("float64") for p in ctx.products}
    if ctx.addon_products:
        addon = r.product_id.isin(list(ctx.addon_products))
        cols["core_products"] = ibis.ifelse(addon, ibis.null("string"), r.product_id).nunique().cast("float64")
        cols["addon_products"] = ibis.ifelse(addon, r.product_id, ibis.null("string")).nunique().cast("float64")
    held = r.group_by(["account_id", "as_of"]).aggregate(**cols)
    ch = _changes(ctx)
    pop = ctx.pop
    j = pop.join(ch, [pop.account_id == ch.account_id, ch.day <= pop.as_of])
    year = j.day > j.as_of - ibis.interval(days=365)
    moved = j.group_by([j.account_id, j.as_of]).aggregate(
        last_change=j.day.max(),
        products_added_365d=ibis.ifelse(year, j.added, 0).sum().cast("float64"),
        products_dropped_365d=ibis.ifelse(year, j.dropped, 0).sum().cast("float64"),
    )
    out = held.outer_join(moved, [held.account_id == moved.account_id, held.as_of == moved.as_of])
    as_of = ibis.coalesce(held.as_of, moved.as_of)
    table = out.select(
        account_id=ibis.coalesce(held.account_id, moved.account_id), as_of=as_of,
        **{c: held[c] for c in cols},
        months_since_holdings_change=_since(as_of, moved.last_change) / DAYS_PER_MONTH,
        products_added_365d=moved.products_added_365d, products_dropped_365d=moved.products_dropped_365d,
    )
    fills = {c: 0.0 for c in (*cols, "products_added_365d", "products_dropped_365d")}
    return Family(table, fills)
