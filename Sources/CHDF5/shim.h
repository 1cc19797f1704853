// Swift cannot import HDF5's macro constants (they expand to H5open() calls or casts),
// so each one used by the AnnData module is exposed here as a static inline function.
#ifndef PERTURBOT_CHDF5_SHIM_H
#define PERTURBOT_CHDF5_SHIM_H

#include <hdf5/serial/hdf5.h>

static inline hid_t phdf5_default(void) { return H5P_DEFAULT; }
static inline hid_t phdf5_all(void) { return H5S_ALL; }
static inline hid_t phdf5_error_default(void) { return H5E_DEFAULT; }
static inline unsigned phdf5_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline unsigned phdf5_acc_trunc(void) { return H5F_ACC_TRUNC; }
static inline size_t phdf5_variable(void) { return H5T_VARIABLE; }
static inline hid_t phdf5_plist_link_create(void) { return H5P_LINK_CREATE; }
static inline hid_t phdf5_plist_dataset_create(void) { return H5P_DATASET_CREATE; }
static inline hid_t phdf5_plist_group_create(void) { return H5P_GROUP_CREATE; }
static inline hid_t phdf5_plist_file_create(void) { return H5P_FILE_CREATE; }
static inline hid_t phdf5_plist_file_access(void) { return H5P_FILE_ACCESS; }

static inline hid_t phdf5_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t phdf5_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t phdf5_native_int8(void) { return H5T_NATIVE_INT8; }
static inline hid_t phdf5_native_int16(void) { return H5T_NATIVE_INT16; }
static inline hid_t phdf5_native_int32(void) { return H5T_NATIVE_INT32; }
static inline hid_t phdf5_native_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t phdf5_native_uint8(void) { return H5T_NATIVE_UINT8; }
static inline hid_t phdf5_native_uint16(void) { return H5T_NATIVE_UINT16; }
static inline hid_t phdf5_native_uint32(void) { return H5T_NATIVE_UINT32; }
static inline hid_t phdf5_native_uint64(void) { return H5T_NATIVE_UINT64; }
static inline hid_t phdf5_c_s1(void) { return H5T_C_S1; }
static inline hid_t phdf5_std_ref_obj(void) { return H5T_STD_REF_OBJ; }
static inline hid_t phdf5_std_i8le(void) { return H5T_STD_I8LE; }

#endif
