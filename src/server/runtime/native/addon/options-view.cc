// sessionOptionsView(configProto): sets the bytes on a TF_SessionOptions with TF_SetConfig, as
// loadSession does, and returns the ConfigProto that TensorFlow's C++ SessionOptions then hold,
// serialized by TensorFlow itself. Tests use it to prove that what we send is what TensorFlow
// reads (TF_SetConfig parses into the options; TF_SessionOptions is defined in c_api_internal.h).
#include <node_api.h>
#include <tensorflow/c/c_api_internal.h>

#include <cstring>
#include <string>

napi_value SessionOptionsView(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < 1) {
    napi_throw_type_error(env, nullptr, "sessionOptionsView(configProto)");
    return nullptr;
  }
  void* bytes = nullptr;
  size_t length = 0;
  napi_typedarray_type type;
  napi_value buffer;
  size_t offset;
  bool isTyped = false;
  napi_is_typedarray(env, argv[0], &isTyped);
  if (!isTyped || napi_get_typedarray_info(env, argv[0], &type, &length, &bytes, &buffer, &offset) != napi_ok ||
      type != napi_uint8_array) {
    napi_throw_type_error(env, nullptr, "configProto must be a Uint8Array");
    return nullptr;
  }
  TF_Status* status = TF_NewStatus();
  TF_SessionOptions* options = TF_NewSessionOptions();
  TF_SetConfig(options, bytes, length, status);
  if (TF_GetCode(status) != TF_OK) {
    std::string message = TF_Message(status);
    TF_DeleteSessionOptions(options);
    TF_DeleteStatus(status);
    napi_throw_error(env, nullptr, message.c_str());
    return nullptr;
  }
  std::string serialized;
  options->options.config.SerializeToString(&serialized);
  TF_DeleteSessionOptions(options);
  TF_DeleteStatus(status);
  void* storage = nullptr;
  napi_value out, view;
  napi_create_arraybuffer(env, serialized.size(), &storage, &out);
  if (!serialized.empty()) std::memcpy(storage, serialized.data(), serialized.size());
  napi_create_typedarray(env, napi_uint8_array, serialized.size(), out, 0, &view);
  return view;
}
