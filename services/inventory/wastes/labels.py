"""Spanish and English labels of the codes PCB waste lots and shipments carry (served with
the other vocabularies by ``GET /v1/public/vocabularies``)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from services.inventory.wastes.rules import DISPOSAL_OPERATIONS

# Spanish after the Convention's official Spanish text (Anexo IV, "Operaciones de
# eliminación"), shortened like the English.
_OPERATIONS_ES: Final = {
    "D1": "Depósito dentro o sobre la tierra (p. ej. relleno)",
    "D2": "Tratamiento de la tierra (p. ej. biodegradación en suelos)",
    "D3": "Inyección profunda",
    "D4": "Embalse superficial",
    "D5": "Rellenos especialmente diseñados",
    "D6": "Vertido en una extensión de agua, salvo mares u océanos",
    "D7": "Vertido en mares u océanos, incluida la inserción en el lecho marino",
    "D8": "Tratamiento biológico no especificado en otra parte del Anexo IV",
    "D9": "Tratamiento fisicoquímico no especificado en otra parte del Anexo IV",
    "D10": "Incineración en la tierra",
    "D11": "Incineración en el mar",
    "D12": "Depósito permanente (p. ej. en una mina)",
    "D13": "Combinación o mezcla previa a una operación de la sección A",
    "D14": "Reempaque previo a una operación de la sección A",
    "D15": "Almacenamiento previo a una operación de la sección A",
    "R1": "Utilización como combustible o para generar energía",
    "R2": "Recuperación o regeneración de disolventes",
    "R3": "Reciclado o recuperación de sustancias orgánicas que no se usan como disolventes",
    "R4": "Reciclado o recuperación de metales y compuestos metálicos",
    "R5": "Reciclado o recuperación de otras materias inorgánicas",
    "R6": "Regeneración de ácidos o bases",
    "R7": "Recuperación de componentes usados para reducir la contaminación",
    "R8": "Recuperación de componentes de catalizadores",
    "R9": "Regeneración u otra reutilización de aceites usados",
    "R10": "Tratamiento de suelos en beneficio de la agricultura o el ambiente",
    "R11": "Utilización de materiales residuales de las operaciones R1-R10",
    "R12": "Intercambio de desechos para una operación R1-R11",
    "R13": "Acumulación de material destinado a una operación de la sección B",
}

WASTE_VOCABULARIES: Final[Mapping[str, Mapping[str, tuple[str, str]]]] = MappingProxyType(
    {
        "waste_kind": MappingProxyType(
            {
                "liquid": (
                    "Líquido (askarel o aceite contaminado)",
                    "Liquid (askarel or contaminated oil)",
                ),
                "drained_equipment": ("Equipo drenado", "Drained equipment"),
                "contaminated_material": (
                    "Material contaminado (suelos, trapos, absorbentes, envases)",
                    "Contaminated material (soil, rags, absorbents, packaging)",
                ),
                "other": ("Otro", "Other"),
            }
        ),
        "concentration_basis": MappingProxyType(
            {
                "gc_analysis": ("Análisis por cromatografía de gases", "GC analysis"),
                "nameplate": ("Placa del fabricante", "Nameplate"),
                "source_items": ("De los equipos de origen", "From the source items"),
                "estimated": ("Estimada", "Estimated"),
            }
        ),
        "waste_lot_status": MappingProxyType(
            {
                "stored": ("Almacenado", "Stored"),
                "shipped": ("Enviado a eliminación", "Shipped for disposal"),
                "disposed": ("Eliminado", "Disposed of"),
            }
        ),
        "disposal_operation": MappingProxyType(
            {code: (_OPERATIONS_ES[code], label) for code, label in DISPOSAL_OPERATIONS.items()}
        ),
    }
)
