"""Which USGS world-production rows feed which (material, stage), and on what content basis.

Each :class:`UsgsRow` names the exact MCS 2026 ``MCS chapter`` + ``Statistics_detail`` (its world table,
primary for 2024 and 2025e) and the exact MCS 2025 ``COMMODITY`` + ``TYPE`` (used for 2023 only). The
content basis comes from the chapter's ``Other notes`` ("Data in metric tons, cobalt content ...") or from the
section title / ``Statistics_detail`` / ``TYPE`` where those are more specific; ``mcs2025_type`` is ``None``
where the 2023 row is absent or on a different basis (then 2023 is simply not in the atlas).

Rules (see docs/methods/atlas.md): ``Mine production`` -> ``mine``; refinery, smelter, primary (gallium
low-purity) and sponge-metal production -> ``refine``. Rows on a gross-weight basis are kept only where the
commodity is traded on that basis (barite, fluorspar, bauxite, alumina, graphite, zircon), as the basis says.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class UsgsRow:
    """One USGS production series selected into the atlas."""

    material: str
    stage: str
    chapter: str  # MCS 2026 'MCS chapter'
    detail: str  # MCS 2026 'Statistics_detail' (country rows; the total row adds ': rounded')
    basis: str
    mcs2025_commodity: str | None  # MCS 2025 'COMMODITY' (stripped)
    mcs2025_type: str | None  # MCS 2025 'TYPE' (stripped)


SELECTION: tuple[UsgsRow, ...] = (
    UsgsRow("aluminum", "refine", "ALUMINUM", "Smelter production", "aluminum metal (primary smelter output)",
            "Aluminum", "Smelter production, aluminum"),
    UsgsRow("antimony", "mine", "ANTIMONY", "Mine production", "antimony content",
            "Antimony", "Mine production, antimony content"),
    UsgsRow("arsenic", "refine", "ARSENIC", "Production (arsenic trioxide, gross weight)",
            "arsenic trioxide, gross weight", "Arsenic",
            "Plant production, arsenic trioxide or calculated equivalent."),
    UsgsRow("barite", "mine", "BARITE", "Mine production", "barite, gross weight",
            "Barite", "Mine production, barite, estimated"),
    UsgsRow("bauxite", "mine", "BAUXITE AND ALUMINA", "Bauxite, mine production", "bauxite, gross dry weight",
            "Bauxite", "Mine production, bauxite, dry tons"),
    UsgsRow("alumina", "refine", "BAUXITE AND ALUMINA", "Alumina, refinery production",
            "alumina, calcined equivalent dry weight", "Bauxite",
            "Refinery production, alumina - calcined equivalent weights"),
    UsgsRow("beryllium", "mine", "BERYLLIUM", "Mine production", "beryllium content",
            "Beryllium", "Mine production, beryllium content"),
    UsgsRow("bismuth", "refine", "BISMUTH", "Refinery production", "bismuth metal (refinery output)",
            "Bismuth", "Refinery production"),
    UsgsRow("bromine", "mine", "BROMINE", "Production", "bromine content",
            "Bromine", "Production, bromine content, estimated"),
    UsgsRow("cadmium", "refine", "CADMIUM", "Refinery production", "cadmium metal (refinery output)",
            "Cadmium", "Refinery production, estimated"),
    # both editions report chromium mine output as marketable chromite ore, gross weight (the MCS 2026
    # row notes say so; its chapter header's "chromium content" does not apply to this table)
    UsgsRow("chromium", "mine", "CHROMIUM", "Mine production", "marketable chromite ore, gross weight",
            "Chromium", "Mine production, grosss weight, marketable chromite ore"),
    UsgsRow("cobalt", "mine", "COBALT", "Mine production", "cobalt content",
            "Cobalt", "Mine production, cobalt content, estimated"),
    UsgsRow("copper", "mine", "COPPER", "Mine production", "copper content",
            "Copper", "Mine production, recoverable copper content"),
    UsgsRow("copper", "refine", "COPPER", "Refinery production", "copper content (refined copper)",
            "Copper", "Refinery production, copper"),
    UsgsRow("fluorspar", "mine", "FLUORSPAR", "Mine production", "fluorspar, gross weight",
            "Fluorspar", "Mine production, estimated"),
    UsgsRow("gallium", "refine", "GALLIUM", "Primary production", "gallium content (primary low-purity)",
            "Gallium", "Primary production"),
    UsgsRow("germanium", "refine", "GERMANIUM", "Refinery production", "germanium content",
            "Gemanium", "Primary and secondary refinery production"),
    UsgsRow("gold", "mine", "GOLD", "Mine production", "gold content",
            "Gold", "mine production, gold content"),
    UsgsRow("graphite", "mine", "GRAPHITE (NATURAL)", "Mine production", "natural graphite, gross weight",
            "Graphite", "Mine production"),
    UsgsRow("indium", "refine", "INDIUM", "Refinery production", "indium content (refinery output)",
            "Indium", "Refinery production"),
    UsgsRow("iodine", "mine", "IODINE", "Mine production", "elemental iodine",
            "Iodine", "Mine production, elemental iodine"),
    UsgsRow("iron-ore", "mine", "IRON ORE", "Mine production: Iron content", "iron content",
            "Iron Ore", "Mine production, iron content"),
    UsgsRow("lead", "mine", "LEAD", "Mine production", "lead content",
            "Lead", "Mine production, lead content"),
    UsgsRow("lithium", "mine", "LITHIUM", "Mine production", "lithium content",
            "Lithium", "Mine production, lithium content"),
    UsgsRow("magnesium", "refine", "MAGNESIUM METAL", "Smelter production",
            "magnesium metal (smelter output)",
            "Magnesium metal", "Magnesium smelter production"),
    UsgsRow("manganese", "mine", "MANGANESE", "Mine production", "manganese content",
            "Manganese", "Mine production, manganese content"),
    UsgsRow("mercury", "mine", "MERCURY", "Mine production", "mercury content",
            "Mercury", "Mine production, mercury content"),
    UsgsRow("molybdenum", "mine", "MOLYBDENUM", "Mine production", "molybdenum content",
            "Molybdenum", "Mine production, molybdenum content"),
    UsgsRow("nickel", "mine", "NICKEL", "Mine production", "nickel content",
            "Nickel", "Mine production, nickel content"),
    UsgsRow("niobium", "mine", "NIOBIUM (COLUMBIUM)", "Mine production", "niobium content",
            "Niobium", "Mine production, niobium content"),
    UsgsRow("phosphate-rock", "mine", "PHOSPHATE ROCK", "Mine production", "marketable phosphate rock",
            "Phosphate rock", "Mine production, marketable phosphate rock"),
    UsgsRow("palladium", "mine", "PLATINUM-GROUP METALS", "Mine production: Palladium", "palladium content",
            "Platinum-Group metals", "Mine production, Palladium content"),
    UsgsRow("platinum", "mine", "PLATINUM-GROUP METALS", "Mine production: Platinum", "platinum content",
            "Platinum-Group metals", "Mine production, Platinum content"),
    UsgsRow("potash", "mine", "POTASH", "Mine production", "potassium oxide (K2O) equivalent",
            "Potash", "Mine production, potassium oxide (K2O) equivalent"),
    UsgsRow("rare-earths", "mine", "RARE EARTHS", "Mine production", "rare-earth-oxide (REO) equivalent",
            "Rare earths", "Mine production, rare-earth-oxide equivalent"),
    UsgsRow("rhenium", "mine", "RHENIUM", "Mine production", "rhenium content",
            "Rhenium", "Mine production, rhenium content"),
    UsgsRow("selenium", "refine", "SELENIUM", "Refinery production", "selenium content",
            "Selenium", "Refinery production, selenium content"),
    UsgsRow("ferrosilicon", "refine", "SILICON", "Ferrosilicon", "silicon content",
            "Silicon", "Plant production, Ferosilicon, silicon content"),
    # MCS 2025's silicon-metal TYPE does not state the basis; 2023 is left out rather than assumed
    UsgsRow("silicon-metal", "refine", "SILICON", "Silicon metal", "silicon content", None, None),
    UsgsRow("silver", "mine", "SILVER", "Mine production", "silver content",
            "Silver", "Mine production, silver content"),
    UsgsRow("strontium", "mine", "STRONTIUM", "Mine production", "strontium content",
            "Strontium", "Mine production, strontium content"),
    UsgsRow("tantalum", "mine", "TANTALUM", "Mine production", "tantalum content",
            "Tantalum", "Mine production, tantalum content"),
    UsgsRow("tellurium", "refine", "TELLURIUM", "Refinery production", "tellurium content",
            "Tellurium", "Refinery production, tellurium content"),
    UsgsRow("tin", "mine", "TIN", "Mine production", "tin content", "Tin", "Mine production, tin content"),
    UsgsRow("titanium-sponge", "refine", "TITANIUM AND TITANIUM DIOXIDE", "Titanium sponge metal production",
            "titanium sponge metal", "Titanium & titanium dioxide", "Sponge Metal Production"),
    # MCS 2025 labels the titanium concentrate rows 'metric tons' while the figures are thousand metric tons
    # (China 3,250 in 2023 vs 3,300 thousand t in MCS 2026): a unit-label error, so 2023 is left out
    UsgsRow("ilmenite", "mine", "TITANIUM MINERAL CONCENTRATES", "Mine production: Ilmenite",
            "titanium dioxide (TiO2) content", None, None),
    UsgsRow("rutile", "mine", "TITANIUM MINERAL CONCENTRATES", "Mine production: Rutile",
            "titanium dioxide (TiO2) content", None, None),
    UsgsRow("tungsten", "mine", "TUNGSTEN", "Mine production", "tungsten content",
            "Tungsten", "Mine production, tungsten content"),
    UsgsRow("vanadium", "mine", "VANADIUM", "Mine production", "vanadium content",
            "Vanadium", "Mine production, vanadium content"),
    UsgsRow("zinc", "mine", "ZINC", "Mine production", "zinc content",
            "Zinc", "Mine production, zinc content"),
    UsgsRow("zirconium", "mine", "ZIRCONIUM AND HAFNIUM",
            "Zirconium mineral concentrates, mine production (thousand metric tons, gross weight)",
            "zirconium mineral concentrates, gross weight", "Zirconium and Hafnium",
            "Mine production, zirconium, gross weight"),
)  # fmt: skip
