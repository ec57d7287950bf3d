/*
 * A stand-in for GDAL, the geospatial raster library, under the name OpenCV's
 * imgcodecs was linked against (libgdal.so.N).
 *
 * Debian's and Raspberry Pi OS's imgcodecs link GDAL so that imread can open
 * satellite formats (NITF, DTED, GeoTIFF with IMREAD_LOAD_GDAL). A station
 * never reads those, yet loading GDAL maps ~110 more libraries (PROJ, GEOS,
 * Poppler, HDF5, NetCDF, Xerces...), and imgcodecs registers every GDAL driver
 * on first use: ~27 MB of the daemon's resident memory for nothing.
 *
 * Here GDAL knows no format: GDALOpen opens nothing, so OpenCV's GDAL decoder
 * reports the file as unreadable (imread returns an empty image, which the
 * daemon turns into its coded error) and never reaches the dataset and band
 * members below. Every JPEG, PNG, TIFF, WebP... codec is OpenCV's own and
 * unaffected. bin/edge-inspect puts this library first on the search path;
 * native/no-gdal/build.sh builds it only if it defines every GDAL symbol the
 * installed imgcodecs imports.
 */
#include <stddef.h>

typedef void *GDALDatasetH;
enum { CE_FAILURE = 3 };

void GDALAllRegister(void) {}

GDALDatasetH GDALOpen(const char *path, int access) {
  (void)path;
  (void)access;
  return NULL;
}

void GDALClose(GDALDatasetH dataset) { (void)dataset; }

/* GDAL itself answers NULL for a type it does not know. */
const char *GDALGetDataTypeName(int type) {
  (void)type;
  return NULL;
}

/* C++ members, under their mangled names: unreachable without a dataset. */

/* GDALDataset::GetRasterBand(int) */
void *_ZN11GDALDataset13GetRasterBandEi(void *self, int band) {
  (void)self;
  (void)band;
  return NULL;
}

/* GDALDataset::GetRasterCount() */
int _ZN11GDALDataset14GetRasterCountEv(void *self) {
  (void)self;
  return 0;
}

/* GDALDataset::GetRasterXSize() */
int _ZN11GDALDataset14GetRasterXSizeEv(void *self) {
  (void)self;
  return 0;
}

/* GDALDataset::GetRasterYSize() */
int _ZN11GDALDataset14GetRasterYSizeEv(void *self) {
  (void)self;
  return 0;
}

/* GDALRasterBand::GetRasterDataType() */
int _ZN14GDALRasterBand17GetRasterDataTypeEv(void *self) {
  (void)self;
  return 0;
}

/* GDALRasterBand::GetXSize() */
int _ZN14GDALRasterBand8GetXSizeEv(void *self) {
  (void)self;
  return 0;
}

/* GDALRasterBand::GetYSize() */
int _ZN14GDALRasterBand8GetYSizeEv(void *self) {
  (void)self;
  return 0;
}

/* GDALRasterBand::RasterIO(GDALRWFlag, int, int, int, int, void*, int, int, GDALDataType, GSpacing, GSpacing, GDALRasterIOExtraArg*) */
int _ZN14GDALRasterBand8RasterIOE10GDALRWFlagiiiiPvii12GDALDataTypexxP20GDALRasterIOExtraArg(
    void *self, int rw, int x, int y, int w, int h, void *data, int bw, int bh, int type, long long pixel_space,
    long long line_space, void *extra) {
  (void)self, (void)rw, (void)x, (void)y, (void)w, (void)h, (void)data, (void)bw, (void)bh, (void)type;
  (void)pixel_space, (void)line_space, (void)extra;
  return CE_FAILURE;
}

/* GDALColorTable::GetColorEntry(int) const */
const void *_ZNK14GDALColorTable13GetColorEntryEi(const void *self, int i) {
  (void)self;
  (void)i;
  return NULL;
}

/* GDALColorTable::GetPaletteInterpretation() const */
int _ZNK14GDALColorTable24GetPaletteInterpretationEv(const void *self) {
  (void)self;
  return 0;
}

/* GDAL 3.10 (Debian 13) made the dataset's and band's getters const: the same
 * members under their const names. */
int _ZNK11GDALDataset14GetRasterCountEv(void *self) __attribute__((alias("_ZN11GDALDataset14GetRasterCountEv")));
int _ZNK11GDALDataset14GetRasterXSizeEv(void *self) __attribute__((alias("_ZN11GDALDataset14GetRasterXSizeEv")));
int _ZNK11GDALDataset14GetRasterYSizeEv(void *self) __attribute__((alias("_ZN11GDALDataset14GetRasterYSizeEv")));
int _ZNK14GDALRasterBand17GetRasterDataTypeEv(void *self) __attribute__((alias("_ZN14GDALRasterBand17GetRasterDataTypeEv")));
int _ZNK14GDALRasterBand8GetXSizeEv(void *self) __attribute__((alias("_ZN14GDALRasterBand8GetXSizeEv")));
int _ZNK14GDALRasterBand8GetYSizeEv(void *self) __attribute__((alias("_ZN14GDALRasterBand8GetYSizeEv")));
