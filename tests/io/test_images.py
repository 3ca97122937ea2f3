"""Reading pictures (8- and 16-bit), .npy, NIfTI and DICOM, and naming outputs of several inputs."""

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from PIL import Image

from nnkit.errors import NnkitInputError
from nnkit.io.images import expand_inputs, output_name, parse_slice, read_image, take_slice

SAMPLES = Path(__file__).parents[2] / "samples"


def test_brain_png_is_the_courses_reading():
    expected = np.array(Image.open(SAMPLES / "brain.png").convert("L")) / 255.0
    image = read_image(SAMPLES / "brain.png")
    assert image.dtype == np.float64 and image.shape == (233, 197)
    np.testing.assert_array_equal(image, expected)


def test_16_bit_png_keeps_its_precision(tmp_path):
    values = np.array([[0, 1, 257], [32768, 65534, 65535]], dtype=np.uint16)
    Image.fromarray(values).save(tmp_path / "deep.png")
    np.testing.assert_array_equal(read_image(tmp_path / "deep.png"), values / 65535.0)


def test_32_bit_tiffs_keep_their_values(tmp_path):
    deep = np.array([[0, 100000], [2**31 - 1, -5]], dtype=np.int32)
    Image.fromarray(deep).save(tmp_path / "i32.tif")
    np.testing.assert_array_equal(read_image(tmp_path / "i32.tif"), deep)
    real = np.array([[0.5, -2.0], [3.0, 1e6]], dtype=np.float32)
    Image.fromarray(real).save(tmp_path / "f32.tif")
    np.testing.assert_array_equal(read_image(tmp_path / "f32.tif"), real)
    Image.fromarray(np.array([[0, 65535]], dtype=np.uint16)).save(tmp_path / "u16.tif")
    np.testing.assert_array_equal(read_image(tmp_path / "u16.tif"), [[0.0, 1.0]])


@pytest.mark.parametrize("suffix", [".jpg", ".tif", ".bmp"])
def test_other_formats_and_colour_become_grayscale(tmp_path, suffix):
    rgb = np.zeros((4, 5, 3), dtype=np.uint8)
    rgb[..., 0] = 255
    Image.fromarray(rgb).save(tmp_path / f"red{suffix}")
    image = read_image(tmp_path / f"red{suffix}")
    assert image.shape == (4, 5)
    # Pillow's L = 0.299 R + 0.587 G + 0.114 B, so pure red is 76/255 (JPEG may wobble by a level).
    np.testing.assert_allclose(image, 76 / 255, atol=2 / 255)


def test_npy_as_is_and_3d_needs_a_slice(tmp_path):
    volume = np.arange(24.0).reshape(2, 3, 4)
    np.save(tmp_path / "v.npy", volume)
    with pytest.raises(NnkitInputError, match="--slice"):
        read_image(tmp_path / "v.npy")
    np.testing.assert_array_equal(read_image(tmp_path / "v.npy", "0:1"), volume[1])
    np.testing.assert_array_equal(read_image(tmp_path / "v.npy", "2:-1"), volume[:, :, -1])
    with pytest.raises(NnkitInputError, match="outside"):
        read_image(tmp_path / "v.npy", "1:3")
    with pytest.raises(NnkitInputError, match="AXIS:INDEX"):
        parse_slice("axial")


def test_nifti_slice_equals_nibabel():
    path = SAMPLES / "mni152_t1_1mm.nii.gz"
    volume = nib.load(path).get_fdata()
    np.testing.assert_array_equal(read_image(path, "2:80"), volume[..., 80])
    np.testing.assert_array_equal(read_image(path), volume[..., volume.shape[2] // 2])
    np.testing.assert_array_equal(read_image(path, "0:98"), volume[98])


def test_dicom_applies_rescale_slope_and_intercept(tmp_path):
    import pydicom
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

    stored = np.array([[0, 100, 1000], [2000, 3000, 4095]], dtype=np.uint16)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(tmp_path / "ct.dcm"), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID, ds.SOPInstanceUID, ds.Modality = CTImageStorage, meta.MediaStorageSOPInstanceUID, "CT"
    ds.Rows, ds.Columns = stored.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.RescaleSlope, ds.RescaleIntercept, ds.RescaleType = 1, -1024, "HU"
    ds.PixelData = stored.tobytes()
    ds.save_as(tmp_path / "ct.dcm", enforce_file_format=True)
    assert pydicom.dcmread(tmp_path / "ct.dcm").Modality == "CT"
    np.testing.assert_array_equal(read_image(tmp_path / "ct.dcm"), stored - 1024.0)


def test_colour_dicom_becomes_one_grayscale_image(tmp_path):
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

    rgb = np.zeros((4, 5, 3), dtype=np.uint8)
    rgb[..., 0], rgb[1, 2] = 200, (10, 20, 30)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(tmp_path / "rgb.dcm"), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID, ds.SOPInstanceUID, ds.Modality = SecondaryCaptureImageStorage, generate_uid(), "OT"
    ds.Rows, ds.Columns = rgb.shape[:2]
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, "RGB", 0
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PixelData = rgb.tobytes()
    ds.save_as(tmp_path / "rgb.dcm", enforce_file_format=True)
    image = read_image(tmp_path / "rgb.dcm")
    assert image.shape == (4, 5)
    np.testing.assert_allclose(image[0, 0], 0.299 * 200)
    np.testing.assert_allclose(image[1, 2], 0.299 * 10 + 0.587 * 20 + 0.114 * 30)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [("notes.png", b"this is text, not a picture\n", "not an image"),
     ("broken.png", None, "cannot read image"),
     ("empty.nii.gz", b"not gzip", "cannot read NIfTI"),
     ("scan.dcm", b"\0" * 200, "cannot read DICOM"),
     ("bad.npy", b"\x93NUMPY garbage", "bad.npy: .npy format version")],
)
def test_corrupt_files_are_input_errors(tmp_path, name, content, message):
    if content is None:  # a PNG cut short
        Image.fromarray(np.zeros((64, 64), dtype=np.uint8) + 7).save(tmp_path / "whole.png")
        content = (tmp_path / "whole.png").read_bytes()[:60]
    (tmp_path / name).write_bytes(content)
    with pytest.raises(NnkitInputError, match=message):
        read_image(tmp_path / name)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(NnkitInputError, match="no such file"):
        read_image(tmp_path / "absent.png")
    with pytest.raises(NnkitInputError, match="folder"):
        read_image(tmp_path)


def test_missing_medical_extra_says_what_to_install(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_nibabel(name, *args, **kwargs):
        if name == "nibabel":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_nibabel)
    with pytest.raises(NnkitInputError) as caught:
        read_image(SAMPLES / "mni152_t1_1mm.nii.gz")
    assert "nnkit-cli[medical]" in caught.value.hint


def test_expand_inputs_and_output_names(tmp_path):
    for name in ("b.png", "a.npy", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    assert expand_inputs([str(tmp_path)]) == [str(tmp_path / "a.npy"), str(tmp_path / "b.png")]
    assert expand_inputs([str(tmp_path / "*.png")]) == [str(tmp_path / "b.png")]
    assert expand_inputs(["-"]) == ["-"]
    with pytest.raises(NnkitInputError, match="no files match"):
        expand_inputs([str(tmp_path / "*.jpg")])
    assert output_name("x/scan.nii.gz", ".png") == "scan.png"
    assert output_name("brain.png", ".npy") == "brain.npy"


def test_take_slice_rejects_nan_and_4d():
    with pytest.raises(NnkitInputError, match="NaN"):
        take_slice(np.array([[1.0, np.nan]]), None)
    with pytest.raises(NnkitInputError, match="4-D"):
        take_slice(np.ones((2, 2, 2, 2)), None)


def test_nifti_default_is_the_axial_slice_whatever_the_voxel_order(tmp_path):
    # FreeSurfer's conformed volumes are LIA: voxel axis 1 runs inferior→superior, axis 2 is coronal.
    image = nib.load(SAMPLES / "mni152_t1_1mm.nii.gz")
    lia = image.as_reoriented(nib.orientations.ornt_transform(
        nib.orientations.axcodes2ornt(("R", "A", "S")), nib.orientations.axcodes2ornt(("L", "I", "A"))))
    nib.save(lia, tmp_path / "lia.nii.gz")
    volume = nib.load(tmp_path / "lia.nii.gz").get_fdata()
    np.testing.assert_array_equal(read_image(tmp_path / "lia.nii.gz"), volume[:, volume.shape[1] // 2, :])
    np.testing.assert_array_equal(read_image(tmp_path / "lia.nii.gz", "2:10"), volume[:, :, 10])
