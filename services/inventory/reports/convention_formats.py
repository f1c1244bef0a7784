"""Which part of each Convention's reporting format a figure of the Convention reports
answers, in our own words, with the public page the fact comes from (searched among the
stored public pages on 2026-12-02; nothing is quoted at length).

Stockholm Convention, Article 15 (national report every four years, through the
Secretariat's Electronic Reporting System):
- Part C of the reporting format (adopted with decision SC-2/18; ERS "Part C") collects the
  progress in eliminating PCBs under Annex A Part II subparagraph (g): the equipment and
  liquids identified, removed from use and managed in an environmentally sound way.
  Sources: ERS_PART_C, SC_2_18; the PCB progress review questionnaire (its "PCB
  quantitative data" part) is listed at PCB_REVIEW. The stored pages show Part C's
  structure and its first questions (Article 6 strategies), not the numbered quantitative
  questions of the current ERS form: figures therefore name Part C and the subparagraph
  of Annex A Part II they answer, never a question number we could not check.
- Releases of Annex C chemicals are reported by the Toolkit's ten source groups and the
  five release vectors; the standard table for PCDD/PCDF releases is Annex 5, Table III.5.1
  of the UNEP Toolkit (2013, Part I chapter 3). Source: TOOLKIT_REPORTING.

Minamata Convention, Article 21 (format of decision MC-1/8, clarified by MC-4/8 and
amended by MC-5/13): the report includes the information called for in Articles 3, 5, 7,
8 and 9; a Party with more than insignificant ASGM reports its progress under Article 7
(its national action plan, Annex C) every three years within the Article 21 report.
Sources: MINAMATA_FORMAT, MINAMATA_DRAFT_FORMAT, MINAMATA_NAP.
"""

from __future__ import annotations

from typing import Final

ERS_PART_C: Final = (
    "http://ers.pops.int/eRSodataReports2/Console%20Texts/sc/Part%20Intro/Part%20C.htm"
)
SC_2_18: Final = "https://docest.com/doc/165485/annex-to-decision-sc-2-18"
PCB_REVIEW: Final = (
    "http://chm.pops.int/Implementation/IndustrialPOPs/PCBs/Evaluation(review)/tabid/6112/"
    "StyleSheetWidget"
)
POPS_REPORTING: Final = (
    "https://www.pops.int/Countries/Reporting/OverviewandMandate/tabid/746/Default.aspx"
)
TOOLKIT_REPORTING: Final = "http://toolkit.pops.int/Publish/Main/I_03_Reporting.html"
MINAMATA_FORMAT: Final = "https://minamataconvention.org/en/parties/reporting/forms-and-guidance"
MINAMATA_DRAFT_FORMAT: Final = "https://docest.com/unep-dtie-hg-inc-7-10"
MINAMATA_NAP: Final = "https://minamataconvention.org/fr/parties/national-action-plans"

# Annex A Part II categories of the PCB part: the class of an item under the schedule,
# and the concentration / volume rule that defines it (DOMAIN.md §1).
PCB_CATEGORIES: Final = {
    "i": ("P1", "> 10 % (100 000 mg/kg) and > 5 L: Annex A Part II (a)(i)"),
    "ii": ("P2", "> 0.05 % (500 mg/kg) and > 5 L: Annex A Part II (a)(ii)"),
    "iii": ("P3", "> 0.005 % (50 mg/kg) and > 0.05 L: Annex A Part II (a)(iii)"),
    "presumed": ("presumed", "not analysed, presumed PCB by age and volume (to be tested)"),
    "below_volume_rule": (
        "non_pcb",
        "> 0.005 % at or below the volume rule: ESM applies, Annex A Part II (e)",
    ),
}
ALL_PCB: Final = ("i", "ii", "iii", "presumed")

# The states the PCB part reports, and the part of the format each answers.
PCB_STATES: Final = {
    "identified": "Part C: PCB equipment and liquids identified (inventory), Annex A Part II (a)",
    "in_use": "Part C: PCB equipment still in use, to be eliminated by the use deadline "
    "(Annex A Part II (a))",
    "removed_from_use": "Part C: PCB equipment removed from use, Annex A Part II (a)",
    "esm": "Part C: PCB equipment and liquids managed in an environmentally sound way "
    "(eliminated, with evidence), Annex A Part II (e)",
    "awaiting_esm": "Part C: PCB equipment and liquids still awaiting environmentally sound "
    "management by the ESM deadline, Annex A Part II (e)",
}
PCB_UNANALYSED_QUESTION: Final = (
    "Part C: completeness of the PCB inventory: items whose concentration is not yet "
    "established (presumed or unknown), not eliminated"
)
ANNEX_C_QUESTION: Final = (
    "Article 5 / Annex C release inventory, by Toolkit source group and release vector "
    "(Toolkit Annex 5, Table III.5.1 for PCDD/PCDF)"
)

# Mercury pathways by the Article the format asks them under (the Toolkit's pathways).
MERCURY_ARTICLES: Final = {
    "air": "Article 8 (emissions to air), via the Article 21 report",
    "water": "Article 9 (releases to land and water), via the Article 21 report",
    "land": "Article 9 (releases to land and water), via the Article 21 report",
}
MERCURY_OTHER_OUTPUT: Final = (
    "Inventory context for Articles 8 and 9: outputs to products, waste and treatment"
)
ASGM_QUESTION: Final = (
    "Article 7 and Annex C: mercury use and releases of artisanal and small-scale gold "
    "mining (national action plan progress, every three years in the Article 21 report)"
)
