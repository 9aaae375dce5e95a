"""Browse lists (kg/listing.py): entities of a kind with facet values, counts and disjunctive facet counts."""

from __future__ import annotations

import pytest

from kg.listing import LISTS, UnknownList, filter_options, label_in, list_entities, list_sizes
from kg.store import Store
from tests.conftest import BASE


def test_tiny_programmes_with_kind_sample_lead_and_counts(tiny_store: Store) -> None:
    listing = list_entities(tiny_store, "programmes")
    items = {i.iri.rsplit("/", 1)[1]: i for i in listing.items}
    assert set(items) >= {"storage-mjp", "sample-sensing", "broad-one"}
    storage, sensing = items["storage-mjp"], items["sample-sensing"]
    assert [r.value for r in storage.values["kind"]] == ["mjp"] and not storage.is_sample
    assert sensing.is_sample and [r.value for r in sensing.values["sample"]] == ["sample"]
    assert [r.value for r in storage.values["lead"]] == [BASE + "organisation/real-institute"]
    assert storage.values["lead"][0].labels == {"nl": "Real Institute", "en": "Real Institute"}
    assert sensing.counts["partner"] == 1 and storage.counts["partner"] == 0
    assert {r.value for r in storage.values["cluster"]} == {BASE + "cluster/alpha-tech", BASE + "cluster/beta-tech"}


def test_selection_filters_within_and_across_facets(tiny_store: Store) -> None:
    alpha, beta = BASE + "cluster/alpha-tech", BASE + "cluster/beta-tech"
    only_beta = list_entities(tiny_store, "programmes", {"cluster": [beta]})
    assert all(i.has_any("cluster", [beta]) for i in only_beta.items)
    either = list_entities(tiny_store, "programmes", {"cluster": [alpha, beta]})
    assert len(either.items) >= len(only_beta.items)
    both = list_entities(tiny_store, "programmes", {"cluster": [beta], "kind": ["mjp"], "sample": ["sample"]})
    assert [i.iri for i in both.items] == [BASE + "programme/sample-sensing"]
    assert both.total == len(list_entities(tiny_store, "programmes").items)


def test_facet_counts_ignore_their_own_choice(tiny_store: Store) -> None:
    listing = list_entities(tiny_store, "programmes", {"kind": ["bgp"]})
    kinds = {o.ref.value: (o.count, o.is_selected) for o in next(f for f in listing.facets if f.name == "kind").options}
    assert kinds["bgp"] == (1, True) and kinds["mjp"] == (2, False)


def test_facets_outside_the_list_spec_are_ignored(tiny_store: Store) -> None:
    assert len(list_entities(tiny_store, "clusters", {"kind": ["x"]}).items) == 2


def test_items_sort_by_label_in_the_language(tiny_store: Store) -> None:
    nl = [i.label("nl") for i in list_entities(tiny_store, "clusters", lang="nl").items]
    en = [i.label("en") for i in list_entities(tiny_store, "clusters", lang="en").items]
    assert nl == sorted(nl, key=str.casefold) == ["Alfatechnologie", "Bètatechnologie"]
    assert en == ["Alpha technology", "Beta technology"]


def test_every_list_runs_on_the_default_data(default_store: Store) -> None:
    sizes = list_sizes(default_store)
    for name in LISTS:
        listing = list_entities(default_store, name)
        assert len(listing.items) == sizes[name][0] > 0, name
        assert sum(i.is_sample for i in listing.items) == sizes[name][1], name


def test_an_unknown_list_is_refused(tiny_store: Store) -> None:
    with pytest.raises(UnknownList, match="choose from clusters"):
        list_entities(tiny_store, "nothing")


def test_filter_options_have_both_languages(default_store: Store) -> None:
    options = filter_options(default_store, "en")
    assert len(options["cluster"]) == 8 and len(options["theme"]) == 9 and len(options["mission"]) >= 20
    digital = next(r for r in options["cluster"] if r.value.endswith("/digital-technologies"))
    assert digital.label("en") == "Digital Technologies" and digital.label("nl") != digital.label("en")


def test_label_in_falls_back() -> None:
    assert label_in({"en": "E", "nl": "N"}, "en") == "E"
    assert label_in({"": "plain", "en": "E"}, "nl") == "plain"
    assert label_in({"en": "E"}, "nl") == "E"
    assert label_in({}, "nl", "fallback") == "fallback"
