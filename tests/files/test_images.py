"""Reading pictures (8- and 16-bit), .npy, NIfTI and DICOM, and naming outputs of several inputs."""

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from PIL import Image

from nnkit.errors import NnkitInputError
from nnkit.files.images import expand_inputs, output_name, parse_slice, read_image, take_slice

SAMPLES = Path(__file__).parents[2] / "samples"


def test_brain_png_is_the_courses_reading():
    expected = np.array(Image.open(SAMPLES / "brain.png").convert("L")) / 255.0
    image = read_image(SAMPLES / "brain.png")
    assert image.dtype == np.float64 and image.shape == (400, 338)  # the course's brain.shape
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
    with pytest.raises(NnkitInputError, match="no anatomical orientation"):
        read_image(tmp_path / "v.npy", "axial:1")
    for bad in ("front", "axial:x", "2", "1:2:3"):
        with pytest.raises(NnkitInputError, match="AXIS:INDEX"):
            parse_slice(bad)


def radiological(slice_2d):
    """A RAS+ slice (first remaining axis across, second up) as a radiologist reads it."""
    return slice_2d.T[::-1, ::-1]


def test_nifti_slices_are_radiological_views_of_the_canonical_volume():
    path = SAMPLES / "mni152_t1_1mm.nii.gz"
    image = nib.load(path)
    assert nib.aff2axcodes(image.affine) == ("R", "A", "S")
    volume = image.get_fdata()
    np.testing.assert_array_equal(read_image(path, "2:80"), radiological(volume[..., 80]))
    np.testing.assert_array_equal(read_image(path, "axial:80"), radiological(volume[..., 80]))
    np.testing.assert_array_equal(read_image(path), radiological(volume[..., volume.shape[2] // 2]))
    np.testing.assert_array_equal(read_image(path, "sagittal:98"), radiological(volume[98]))
    np.testing.assert_array_equal(read_image(path, "coronal:-1"), radiological(volume[:, -1]))
    np.testing.assert_array_equal(read_image(path, "coronal"), radiological(volume[:, 116]))
    assert read_image(path, "axial:80").shape == (233, 197)  # 233 mm front to back, 197 across


def test_axial_slice_80_is_anterior_up_like_brain_png():
    # samples/brain.png is the course's picture of this slice, resized to 400×338 (anterior up).
    from skimage.transform import resize

    brain = read_image(SAMPLES / "brain.png")
    axial = read_image(SAMPLES / "mni152_t1_1mm.nii.gz", "axial:80")
    axial = resize(axial / axial.max(), brain.shape, anti_aliasing=True)

    def correlation(a):
        return np.corrcoef(a.ravel(), brain.ravel())[0, 1]

    upside_down = axial[::-1]
    lying = resize(np.rot90(read_image(SAMPLES / "mni152_t1_1mm.nii.gz", "axial:80")), brain.shape)
    assert correlation(axial) > 0.99
    # a brain is nearly an oval, so the wrong turns still correlate, but clearly worse
    assert correlation(upside_down) < correlation(axial) - 0.05
    assert correlation(lying) < correlation(axial) - 0.05


def test_brain_png_is_the_mni_axial_slice_80_resized_as_samples_readme_says():
    from skimage.transform import resize

    slice_80 = read_image(SAMPLES / "mni152_t1_1mm.nii.gz", "axial:80").astype(np.uint8)
    big = resize(slice_80, (400, 338), order=1, anti_aliasing=True, preserve_range=True, mode="reflect")
    shipped = np.asarray(Image.open(SAMPLES / "brain.png"))
    np.testing.assert_array_equal(np.clip(np.rint(big), 0, 255).astype(np.uint8), shipped)


def test_patient_right_is_on_the_image_left_and_anterior_up(tmp_path):
    # A marker in the patient's right anterior quarter of an axial slice, in RAS and in LPS files.
    volume = np.zeros((6, 8, 3))
    volume[5, 7, 1] = 9.0  # RAS voxel: far right (x index 5), far anterior (y index 7)
    ras = nib.Nifti1Image(volume, np.eye(4))
    nib.save(ras, tmp_path / "ras.nii.gz")
    lps = ras.as_reoriented(nib.orientations.ornt_transform(
        nib.orientations.axcodes2ornt(("R", "A", "S")), nib.orientations.axcodes2ornt(("L", "P", "S"))))
    nib.save(lps, tmp_path / "lps.nii.gz")
    assert nib.aff2axcodes(nib.load(tmp_path / "lps.nii.gz").affine) == ("L", "P", "S")
    for name in ("ras.nii.gz", "lps.nii.gz"):
        picture = read_image(tmp_path / name, "axial:1")
        assert picture.shape == (8, 6)
        assert picture[0, 0] == 9.0 and picture.sum() == 9.0  # top (anterior), left (patient's right)
    # coronal: superior up; sagittal: anterior on the left
    volume = np.zeros((6, 8, 3))
    volume[5, 7, 2] = 9.0
    nib.save(nib.Nifti1Image(volume, np.eye(4)), tmp_path / "corner.nii.gz")
    assert read_image(tmp_path / "corner.nii.gz", "coronal:7")[0, 0] == 9.0
    assert read_image(tmp_path / "corner.nii.gz", "sagittal:5")[0, 0] == 9.0


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
    path = SAMPLES / "mni152_t1_1mm.nii.gz"
    image = nib.load(path)
    lia = image.as_reoriented(nib.orientations.ornt_transform(
        nib.orientations.axcodes2ornt(("R", "A", "S")), nib.orientations.axcodes2ornt(("L", "I", "A"))))
    nib.save(lia, tmp_path / "lia.nii.gz")
    assert nib.load(tmp_path / "lia.nii.gz").shape == (197, 189, 233)
    np.testing.assert_array_equal(read_image(tmp_path / "lia.nii.gz"), read_image(path))
    np.testing.assert_array_equal(read_image(tmp_path / "lia.nii.gz", "coronal:10"), read_image(path, "1:10"))


def write_dicom(path, stored, orientation=None):
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = MRImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID, ds.SOPInstanceUID, ds.Modality = MRImageStorage, meta.MediaStorageSOPInstanceUID, "MR"
    ds.Rows, ds.Columns = stored.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    if orientation is not None:
        ds.ImageOrientationPatient = list(orientation)
    ds.PixelData = stored.astype(np.uint16).tobytes()
    ds.save_as(path, enforce_file_format=True)


@pytest.mark.parametrize(
    ("orientation", "turn"),
    [((1, 0, 0, 0, 1, 0), lambda a: a),                 # axial as scanners store it: already radiological
     ((-1, 0, 0, 0, -1, 0), lambda a: a[::-1, ::-1]),   # flipped: columns run to the patient's right, rows forward
     ((0, 1, 0, 1, 0, 0), lambda a: a.T),               # transposed: columns run backwards
     ((0, -1, 0, 1, 0, 0), lambda a: a.T[::-1]),        # columns run forwards, rows to the left
     ((1, 0, 0, 0, 0, -1), lambda a: a),                # coronal, superior at the top row
     ((1, 0, 0, 0, 0, 1), lambda a: a[::-1]),           # coronal stored upside down
     ((0, 1, 0, 0, 0, -1), lambda a: a),                # sagittal, anterior on the left
     ((0, -1, 0, 0, 0, -1), lambda a: a[:, ::-1])],     # sagittal, anterior on the right
)
def test_dicom_follows_image_orientation_patient(tmp_path, orientation, turn):
    stored = np.arange(12).reshape(3, 4) * 10
    write_dicom(tmp_path / "mr.dcm", stored, orientation)
    np.testing.assert_array_equal(read_image(tmp_path / "mr.dcm"), turn(stored))


def test_dicom_flipped_puts_the_marker_where_a_radiologist_expects_it(tmp_path):
    # With the row cosine pointing to the patient's right (-x in LPS) and the column cosine anterior
    # (-y), the first stored pixel is the patient's most left and most posterior one, so it belongs
    # at the bottom right of a radiological picture.
    stored = np.zeros((3, 4))
    stored[0, 0] = 7
    write_dicom(tmp_path / "flipped.dcm", stored, (-1, 0, 0, 0, -1, 0))
    picture = read_image(tmp_path / "flipped.dcm")
    assert picture[-1, -1] == 7 and picture.sum() == 7


def test_dicom_without_orientation_is_read_as_stored(tmp_path):
    from nnkit.files.images import read_image_oriented

    stored = np.arange(6).reshape(2, 3)
    write_dicom(tmp_path / "plain.dcm", stored)
    picture, note = read_image_oriented(tmp_path / "plain.dcm")
    np.testing.assert_array_equal(picture, stored)
    assert "no ImageOrientationPatient" in note
    write_dicom(tmp_path / "axial.dcm", stored, (1, 0, 0, 0, 1, 0))
    assert read_image_oriented(tmp_path / "axial.dcm")[1] == "axial; radiological: anterior up, patient's right on the left"


def test_multi_frame_dicom_frames_by_number_or_by_their_plane(tmp_path):
    frames = np.arange(2 * 3 * 4).reshape(2, 3, 4) * 10
    write_dicom(tmp_path / "series.dcm", frames.reshape(6, 4), (-1, 0, 0, 0, -1, 0))  # rows as stored
    import pydicom

    ds = pydicom.dcmread(tmp_path / "series.dcm")
    ds.NumberOfFrames, ds.Rows = 2, 3
    ds.save_as(tmp_path / "series.dcm")
    np.testing.assert_array_equal(read_image(tmp_path / "series.dcm"), frames[1][::-1, ::-1])  # the middle
    np.testing.assert_array_equal(read_image(tmp_path / "series.dcm", "axial:0"), frames[0][::-1, ::-1])
    np.testing.assert_array_equal(read_image(tmp_path / "series.dcm", "0:1"), frames[1][::-1, ::-1])
    with pytest.raises(NnkitInputError, match="axial slices only"):
        read_image(tmp_path / "series.dcm", "coronal:0")
