import numpy as np
import shapely
from territory_geodata.topojson import decode_arcs, decode_features

# Two unit squares side by side sharing the arc x=1 (arc 1), in a 1/10-degree quantized, delta-encoded topology.
TOPOLOGY = {
    "type": "Topology",
    "transform": {"scale": [0.1, 0.1], "translate": [-80.0, 35.0]},
    "arcs": [
        [[10, 0], [-10, 0], [0, 10], [10, 0]],  # (1,0) -> (0,0) -> (0,1) -> (1,1)
        [[10, 10], [0, -10]],  # (1,1) -> (1,0): the shared edge
        [[10, 0], [10, 0], [0, 10], [-10, 0]],  # (1,0) -> (2,0) -> (2,1) -> (1,1)
    ],
    "objects": {
        "shapes": {
            "type": "GeometryCollection",
            "geometries": [
                {"type": "Polygon", "arcs": [[0, 1]], "id": "A", "properties": {"name": "West"}},
                {"type": "MultiPolygon", "arcs": [[[2, ~1]]], "id": "B", "properties": {"name": "East"}},
                {"type": None, "id": "C", "properties": {"name": "Collapsed"}},
            ],
        }
    },
}


def test_arcs_are_delta_decoded_and_dequantized():
    arcs = decode_arcs(TOPOLOGY)
    np.testing.assert_allclose(arcs[0], [[-79.0, 35.0], [-80.0, 35.0], [-80.0, 36.0], [-79.0, 36.0]])
    np.testing.assert_allclose(arcs[1], [[-79.0, 36.0], [-79.0, 35.0]])


def test_features_become_polygons_sharing_reversed_arcs():
    features = decode_features(TOPOLOGY, "shapes")
    assert features.ids == ["A", "B", "C"]
    assert features.properties[0] == {"name": "West"}
    west, east, collapsed = features.geometries
    assert west.equals(shapely.box(-80, 35, -79, 36))
    assert east.equals(shapely.box(-79, 35, -78, 36))
    assert shapely.is_valid(west) and shapely.is_valid(east)
    assert collapsed.is_empty
    assert west.intersection(east).area == 0 and west.touches(east)
