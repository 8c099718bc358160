// tfmodel's native engine: a Node-API addon over TensorFlow's C API. A SavedModel is loaded into
// a session (TF_LoadSessionFromSavedModel: the graph, variables restored, init ops run, as
// TensorFlow Serving loads one) and signatures run with TF_SessionRun on TF_Tensor buffers.
//
//   addon.loadSession(exportDir, tags, configProto | null) -> Promise<Session>
//   addon.run(session, feeds, fetches, targets[, runOptions]) -> Promise<Output[]>
//       feeds:   [{ name: "op:index", dtype, shape, data }]  data: a typed array, or Uint8Array[]
//                for DT_STRING
//       fetches: ["op:index", ...]; targets: ["op", ...]
//       runOptions: a serialized RunOptions (Uint8Array) handed to TF_SessionRun, or null/absent
//       Output:  { dtype, shape, data }  data: an ArrayBuffer over the TF_Tensor's own memory
//                (freed when garbage-collected), or Uint8Array[] for DT_STRING
//   addon.restoreVariables(session, checkpointPrefix, [{ handle: "VarHandleOp name", key, dtype }])
//       -> Promise<void>: restores those resource variables from the checkpoint (RestoreV2 +
//       AssignVariableOp added to the session's graph and run once)
//   addon.closeSession(session) -> Promise<void>: resolves once TensorFlow has freed the session and
//       its graph, in the background (after the last run in flight; the garbage collector closes a
//       handle the same way)
//   addon.trimMemory() -> Promise<boolean>: glibc's malloc_trim(0) in the background (returns
//       freed heap pages, in every arena, to the system; true when some were released)
//   addon.sessionOptionsView(configProto) -> the ConfigProto TensorFlow's session options hold
//
// Runs and restores execute on libuv's thread pool; loads, session frees and trims on threads of
// their own at a lower CPU priority (see runInBackground); nothing blocks the event loop. Errors reject
// with an Error whose `code` is TensorFlow's status code (the gRPC code).
#include <node_api.h>
#include <tensorflow/c/c_api.h>
#include <tensorflow/c/tf_tstring.h>

#include <malloc.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr int32_t kAbiVersion = 2;

// ---------------------------------------------------------------------------------------------
// Small N-API helpers. A failing napi_* call throws a JS error and the caller returns nullptr.

struct JsException {};

void check(napi_env env, napi_status status, const char* what) {
  if (status == napi_ok) return;
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) napi_throw_error(env, nullptr, what);
  throw JsException();
}

[[noreturn]] void throwType(napi_env env, const std::string& message) {
  napi_throw_type_error(env, nullptr, message.c_str());
  throw JsException();
}

std::string getString(napi_env env, napi_value value, const char* what) {
  size_t length = 0;
  if (napi_get_value_string_utf8(env, value, nullptr, 0, &length) != napi_ok) throwType(env, std::string(what) + " must be a string");
  std::string out(length, '\0');
  check(env, napi_get_value_string_utf8(env, value, out.data(), length + 1, &length), what);
  return out;
}

std::vector<napi_value> getArray(napi_env env, napi_value value, const char* what) {
  bool isArray = false;
  check(env, napi_is_array(env, value, &isArray), what);
  if (!isArray) throwType(env, std::string(what) + " must be an array");
  uint32_t length = 0;
  check(env, napi_get_array_length(env, value, &length), what);
  std::vector<napi_value> items(length);
  for (uint32_t i = 0; i < length; i++) check(env, napi_get_element(env, value, i, &items[i]), what);
  return items;
}

std::vector<std::string> getStrings(napi_env env, napi_value value, const char* what) {
  std::vector<std::string> out;
  for (napi_value item : getArray(env, value, what)) out.push_back(getString(env, item, what));
  return out;
}

napi_value property(napi_env env, napi_value object, const char* name) {
  napi_value value;
  check(env, napi_get_named_property(env, object, name, &value), name);
  return value;
}

int64_t getInt(napi_env env, napi_value value, const char* what) {
  int64_t out = 0;
  if (napi_get_value_int64(env, value, &out) != napi_ok) throwType(env, std::string(what) + " must be a number");
  return out;
}

/** Bytes of a typed array, ArrayBuffer view or Buffer. */
void bytesOf(napi_env env, napi_value value, const char* what, void** data, size_t* length) {
  bool isTyped = false;
  check(env, napi_is_typedarray(env, value, &isTyped), what);
  if (isTyped) {
    napi_typedarray_type type;
    size_t count;
    napi_value buffer;
    size_t offset;
    check(env, napi_get_typedarray_info(env, value, &type, &count, data, &buffer, &offset), what);
    size_t size = 1;
    switch (type) {
      case napi_int8_array: case napi_uint8_array: case napi_uint8_clamped_array: size = 1; break;
      case napi_int16_array: case napi_uint16_array: size = 2; break;
      case napi_int32_array: case napi_uint32_array: case napi_float32_array: size = 4; break;
      default: size = 8; break;
    }
    *length = count * size;
    return;
  }
  throwType(env, std::string(what) + " must be a typed array");
}

napi_value makeError(napi_env env, int code, const std::string& message) {
  napi_value text, error, codeValue;
  napi_create_string_utf8(env, message.c_str(), message.size(), &text);
  napi_create_error(env, nullptr, text, &error);
  napi_create_int32(env, code, &codeValue);
  napi_set_named_property(env, error, "code", codeValue);
  return error;
}

// ---------------------------------------------------------------------------------------------
// Background jobs: loads, session frees and trims run on a thread of their own (never a libuv pool
// thread, which serves the runs of every model), at a lower CPU priority when asked, so that on a
// busy machine the event loop and the other models' runs go first. The thread's priority cannot be
// raised back without privileges, which is why it is not a pool thread. Threads TensorFlow starts
// from it inherit that priority: the first session of the process (which creates TensorFlow's
// process-wide thread pools) is loaded at normal priority.

constexpr int kBackgroundNice = 10;

struct BackgroundJob {
  void (*execute)(void*);
  void (*complete)(napi_env, void*);
  void* data;
  napi_threadsafe_function tsfn = nullptr;
};

void backgroundDone(napi_env env, napi_value, void*, void* data) {
  auto* job = static_cast<BackgroundJob*>(data);
  if (env) job->complete(env, job->data);  // null while the environment is torn down
  delete job;
}

/** Runs execute(data) on a new thread, then complete(env, data) on the JS thread; false if it cannot start. */
bool runInBackground(napi_env env, const char* name, void (*execute)(void*), void (*complete)(napi_env, void*), void* data,
                     bool lowPriority) {
  auto* job = new BackgroundJob{execute, complete, data};
  napi_value resource;
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &resource);
  if (napi_create_threadsafe_function(env, nullptr, nullptr, resource, 0, 1, nullptr, nullptr, nullptr, backgroundDone,
                                      &job->tsfn) != napi_ok) {
    delete job;
    return false;
  }
  napi_threadsafe_function tsfn = job->tsfn;
  try {
    std::thread([job, tsfn, lowPriority]() {
      if (lowPriority) setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), kBackgroundNice);
      job->execute(job->data);
      napi_call_threadsafe_function(tsfn, job, napi_tsfn_blocking);
      napi_release_threadsafe_function(tsfn, napi_tsfn_release);
    }).detach();
  } catch (...) {
    napi_release_threadsafe_function(tsfn, napi_tsfn_release);
    delete job;
    return false;
  }
  return true;
}

/** Whether a session was ever loaded (TensorFlow's process-wide thread pools exist). */
std::atomic<bool> sessionLoaded{false};

// ---------------------------------------------------------------------------------------------
// Sessions. A Session lives until closed and no run is in flight; the JS handle (an external)
// holds one reference, each run another.

struct Session {
  TF_Session* session = nullptr;
  TF_Graph* graph = nullptr;
  std::mutex mutex;
  int refs = 1;
  bool closed = false;
  /** closeSession's promise, resolved once the session is freed (JS thread only). */
  napi_deferred freed = nullptr;

  /** Gives up one reference; true when it was the last (the caller then frees it: releaseSession). */
  bool release() {
    std::lock_guard<std::mutex> lock(mutex);
    return --refs == 0;
  }

  /** Frees TensorFlow's session and graph (hundreds of milliseconds for a large graph): any thread. */
  void destroy() {
    if (session) {
      TF_Status* status = TF_NewStatus();
      TF_CloseSession(session, status);
      TF_DeleteSession(session, status);
      TF_DeleteStatus(status);
      session = nullptr;
    }
    if (graph) TF_DeleteGraph(graph);
    graph = nullptr;
  }

  /** A reference for a run; false once closed. */
  bool acquire() {
    std::lock_guard<std::mutex> lock(mutex);
    if (closed) return false;
    refs++;
    return true;
  }

  /** Marks it closed; true when the caller holds the last reference (see release). */
  bool close() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (closed) return false;
      closed = true;
    }
    return release();
  }
};

void resolveUndefined(napi_env env, napi_deferred deferred) {
  napi_value undefined;
  napi_get_undefined(env, &undefined);
  napi_resolve_deferred(env, deferred, undefined);
}

// Freeing a session runs in the background, never on the event loop: TF_DeleteSession and
// TF_DeleteGraph of a ResNet50-size graph take hundreds of milliseconds.
void destroyExecute(void* data) { static_cast<Session*>(data)->destroy(); }

void destroyComplete(napi_env env, void* data) {
  auto* session = static_cast<Session*>(data);
  if (session->freed) resolveUndefined(env, session->freed);
  delete session;
}

/** Frees a session whose last reference is gone, off the event loop (in place when it cannot). JS thread. */
void freeSession(napi_env env, Session* session) {
  if (runInBackground(env, "tfmodel.closeSession", destroyExecute, destroyComplete, session, true)) return;
  session->destroy();
  destroyComplete(env, session);
}

/** Gives up a reference held by a run or restore (JS thread). */
void releaseSession(napi_env env, Session* session) {
  if (session->release()) freeSession(env, session);
}

// The JS handle. Only the JS thread touches it: closeSession and the garbage collector's finalizer
// each give up the handle's reference once (the Session may be gone after that).
struct SessionHandle {
  Session* session;
  bool closed = false;

  /** Gives up the handle's reference; `freed` (may be null) resolves once the session is freed. */
  void close(napi_env env, napi_deferred freed) {
    if (closed) {
      if (freed) resolveUndefined(env, freed);
      return;
    }
    closed = true;
    Session* s = session;
    if (s->close()) {
      s->freed = freed;
      freeSession(env, s);
    } else if (freed) {
      // A run still holds it: the last one frees it, off the event loop as well.
      resolveUndefined(env, freed);
    }
  }
};

void finalizeHandle(napi_env env, void* data, void*) {
  auto* handle = static_cast<SessionHandle*>(data);
  handle->close(env, nullptr);
  delete handle;
}

SessionHandle* handleOf(napi_env env, napi_value value) {
  void* data = nullptr;
  napi_valuetype type;
  check(env, napi_typeof(env, value, &type), "session");
  if (type != napi_external) throwType(env, "not a session");
  check(env, napi_get_value_external(env, value, &data), "session");
  return static_cast<SessionHandle*>(data);
}

/** The handle's session with a reference for one operation, or a thrown FAILED_PRECONDITION. */
Session* acquireSession(napi_env env, napi_value value) {
  SessionHandle* handle = handleOf(env, value);
  if (handle->closed || !handle->session->acquire()) {
    napi_throw(env, makeError(env, TF_FAILED_PRECONDITION, "Session has been closed."));
    throw JsException();
  }
  return handle->session;
}

/** A status's code and message, kept after the status is deleted. */
struct Failure {
  int code = 0;
  std::string message;
  void set(TF_Status* status) {
    code = TF_GetCode(status);
    message = TF_Message(status);
  }
  bool failed() const { return code != 0; }
};

// ---------------------------------------------------------------------------------------------
// loadSession

struct LoadWork {
  napi_deferred deferred = nullptr;
  std::string exportDir;
  std::vector<std::string> tags;
  std::string config;
  bool hasConfig = false;
  Session* result = nullptr;
  Failure failure;
};

void loadExecute(void* data) {
  auto* w = static_cast<LoadWork*>(data);
  TF_Status* status = TF_NewStatus();
  TF_SessionOptions* options = TF_NewSessionOptions();
  if (w->hasConfig) TF_SetConfig(options, w->config.data(), w->config.size(), status);
  if (TF_GetCode(status) == TF_OK) {
    std::vector<const char*> tags;
    for (const std::string& tag : w->tags) tags.push_back(tag.c_str());
    TF_Graph* graph = TF_NewGraph();
    TF_Session* session = TF_LoadSessionFromSavedModel(options, nullptr, w->exportDir.c_str(), tags.data(),
                                                       static_cast<int>(tags.size()), graph, nullptr, status);
    if (TF_GetCode(status) == TF_OK) {
      sessionLoaded = true;
      w->result = new Session();
      w->result->session = session;
      w->result->graph = graph;
    } else {
      TF_DeleteGraph(graph);
    }
  }
  if (TF_GetCode(status) != TF_OK) w->failure.set(status);
  TF_DeleteSessionOptions(options);
  TF_DeleteStatus(status);
}

void loadComplete(napi_env env, void* data) {
  auto* w = static_cast<LoadWork*>(data);
  if (w->failure.failed()) {
    napi_reject_deferred(env, w->deferred, makeError(env, w->failure.code, w->failure.message));
  } else {
    napi_value external;
    auto* handle = new SessionHandle{w->result};
    napi_create_external(env, handle, finalizeHandle, nullptr, &external);
    napi_resolve_deferred(env, w->deferred, external);
  }
  delete w;
}

napi_value LoadSession(napi_env env, napi_callback_info info) {
  try {
    size_t argc = 3;
    napi_value argv[3];
    check(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr), "arguments");
    if (argc < 3) throwType(env, "loadSession(exportDir, tags, config)");
    auto* w = new LoadWork();
    try {
      w->exportDir = getString(env, argv[0], "exportDir");
      w->tags = getStrings(env, argv[1], "tags");
      napi_valuetype type;
      check(env, napi_typeof(env, argv[2], &type), "config");
      if (type != napi_null && type != napi_undefined) {
        void* bytes;
        size_t length;
        bytesOf(env, argv[2], "config", &bytes, &length);
        w->config.assign(static_cast<const char*>(bytes), length);
        w->hasConfig = true;
      }
    } catch (...) {
      delete w;
      throw;
    }
    napi_value promise;
    check(env, napi_create_promise(env, &w->deferred, &promise), "promise");
    // A load on its own thread: at a lower priority once TensorFlow's shared thread pools exist.
    if (!runInBackground(env, "tfmodel.loadSession", loadExecute, loadComplete, w, sessionLoaded.load())) {
      napi_reject_deferred(env, w->deferred, makeError(env, TF_RESOURCE_EXHAUSTED, "Cannot start a thread to load the SavedModel"));
      delete w;
    }
    return promise;
  } catch (const JsException&) {
    return nullptr;
  }
}

// ---------------------------------------------------------------------------------------------
// run

struct RunWork {
  napi_env env = nullptr;
  napi_async_work work = nullptr;
  napi_deferred deferred = nullptr;
  Session* session = nullptr;
  std::vector<TF_Output> inputs;
  std::vector<TF_Tensor*> inputValues;
  std::vector<TF_Output> outputs;
  std::vector<TF_Tensor*> outputValues;
  std::vector<TF_Operation*> targets;
  /** The serialized RunOptions, empty for none. */
  std::string runOptions;
  Failure failure;

  ~RunWork() {
    for (TF_Tensor* t : inputValues) if (t) TF_DeleteTensor(t);
    for (TF_Tensor* t : outputValues) if (t) TF_DeleteTensor(t);
    if (session) releaseSession(env, session);
  }
};

/** "op:index" (or "op", index 0) to a graph output. */
TF_Output resolveOutput(napi_env env, TF_Graph* graph, const std::string& name) {
  std::string op = name;
  int index = 0;
  size_t colon = name.rfind(':');
  if (colon != std::string::npos) {
    op = name.substr(0, colon);
    index = std::atoi(name.c_str() + colon + 1);
  }
  TF_Operation* operation = TF_GraphOperationByName(graph, op.c_str());
  if (!operation || index < 0 || index >= TF_OperationNumOutputs(operation)) {
    napi_value error = makeError(env, TF_NOT_FOUND, "Tensor " + name + " is not in the graph");
    napi_throw(env, error);
    throw JsException();
  }
  return TF_Output{operation, index};
}

TF_Tensor* tensorFromJs(napi_env env, napi_value feed, const std::string& name) {
  int64_t dtypeValue = getInt(env, property(env, feed, "dtype"), "dtype");
  auto dtype = static_cast<TF_DataType>(dtypeValue);
  std::vector<int64_t> dims;
  int64_t count = 1;
  for (napi_value d : getArray(env, property(env, feed, "shape"), "shape")) {
    int64_t dim = getInt(env, d, "shape");
    if (dim < 0) throwType(env, "input " + name + " has a negative dimension");
    dims.push_back(dim);
    count *= dim;
  }
  napi_value data = property(env, feed, "data");
  if (dtype == TF_STRING) {
    std::vector<napi_value> items = getArray(env, data, "string data");
    if (static_cast<int64_t>(items.size()) != count) throwType(env, "input " + name + ": element count does not match its shape");
    TF_Tensor* tensor = TF_AllocateTensor(TF_STRING, dims.data(), static_cast<int>(dims.size()), count * sizeof(TF_TString));
    auto* strings = static_cast<TF_TString*>(TF_TensorData(tensor));
    for (int64_t i = 0; i < count; i++) TF_StringInit(&strings[i]);
    try {
      for (int64_t i = 0; i < count; i++) {
        void* bytes;
        size_t length;
        bytesOf(env, items[i], "string element", &bytes, &length);
        TF_StringCopy(&strings[i], static_cast<const char*>(bytes), length);
      }
    } catch (...) {
      TF_DeleteTensor(tensor);
      throw;
    }
    return tensor;
  }
  size_t size = TF_DataTypeSize(dtype);
  if (size == 0 || dtype == TF_RESOURCE || dtype == TF_VARIANT) throwType(env, "input " + name + ": dtype " + std::to_string(dtypeValue) + " cannot be fed");
  void* bytes;
  size_t length;
  bytesOf(env, data, "data", &bytes, &length);
  size_t expected = static_cast<size_t>(count) * size;
  if (length != expected) {
    throwType(env, "input " + name + ": " + std::to_string(length) + " bytes for " + std::to_string(count) + " elements of " +
                       std::to_string(size) + " bytes");
  }
  TF_Tensor* tensor = TF_AllocateTensor(dtype, dims.data(), static_cast<int>(dims.size()), expected);
  if (expected > 0) std::memcpy(TF_TensorData(tensor), bytes, expected);
  return tensor;
}

void runExecute(napi_env, void* data) {
  auto* w = static_cast<RunWork*>(data);
  TF_Status* status = TF_NewStatus();
  w->outputValues.assign(w->outputs.size(), nullptr);
  TF_Buffer options{w->runOptions.data(), w->runOptions.size(), nullptr};
  TF_SessionRun(w->session->session, w->runOptions.empty() ? nullptr : &options, w->inputs.data(), w->inputValues.data(), static_cast<int>(w->inputs.size()),
                w->outputs.data(), w->outputValues.data(), static_cast<int>(w->outputs.size()), w->targets.data(),
                static_cast<int>(w->targets.size()), nullptr, status);
  if (TF_GetCode(status) != TF_OK) w->failure.set(status);
  TF_DeleteStatus(status);
}

void freeTensor(napi_env, void*, void* hint) { TF_DeleteTensor(static_cast<TF_Tensor*>(hint)); }

/** A TF_Tensor as { dtype, shape, data }; takes ownership of it. */
napi_value tensorToJs(napi_env env, TF_Tensor* tensor) {
  napi_value result, dtypeValue, shape, data;
  check(env, napi_create_object(env, &result), "output");
  TF_DataType dtype = TF_TensorType(tensor);
  check(env, napi_create_int32(env, dtype, &dtypeValue), "output");
  int rank = TF_NumDims(tensor);
  int64_t count = 1;
  check(env, napi_create_array_with_length(env, rank, &shape), "output");
  for (int i = 0; i < rank; i++) {
    napi_value dim;
    int64_t d = TF_Dim(tensor, i);
    count *= d;
    check(env, napi_create_int64(env, d, &dim), "output");
    check(env, napi_set_element(env, shape, i, dim), "output");
  }
  if (dtype == TF_STRING) {
    auto* strings = static_cast<const TF_TString*>(TF_TensorData(tensor));
    size_t total = 0;
    for (int64_t i = 0; i < count; i++) total += TF_StringGetSize(&strings[i]);
    void* storage = nullptr;
    napi_value buffer;
    check(env, napi_create_arraybuffer(env, total, &storage, &buffer), "output");
    check(env, napi_create_array_with_length(env, count, &data), "output");
    size_t offset = 0;
    for (int64_t i = 0; i < count; i++) {
      size_t length = TF_StringGetSize(&strings[i]);
      if (length > 0) std::memcpy(static_cast<char*>(storage) + offset, TF_StringGetDataPointer(&strings[i]), length);
      napi_value view;
      check(env, napi_create_typedarray(env, napi_uint8_array, length, buffer, offset, &view), "output");
      check(env, napi_set_element(env, data, static_cast<uint32_t>(i), view), "output");
      offset += length;
    }
    TF_DeleteTensor(tensor);
  } else {
    size_t length = TF_TensorByteSize(tensor);
    void* bytes = TF_TensorData(tensor);
    napi_status status = napi_generic_failure;
    if (length > 0 && bytes) status = napi_create_external_arraybuffer(env, bytes, length, freeTensor, tensor, &data);
    if (status != napi_ok) {
      // Empty tensors, and runtimes that refuse external buffers: copy.
      void* storage = nullptr;
      napi_status copied = napi_create_arraybuffer(env, length, &storage, &data);
      if (copied == napi_ok && length > 0) std::memcpy(storage, bytes, length);
      TF_DeleteTensor(tensor);
      check(env, copied, "output");
    }
  }
  check(env, napi_set_named_property(env, result, "dtype", dtypeValue), "output");
  check(env, napi_set_named_property(env, result, "shape", shape), "output");
  check(env, napi_set_named_property(env, result, "data", data), "output");
  return result;
}

void runComplete(napi_env env, napi_status, void* data) {
  auto* w = static_cast<RunWork*>(data);
  if (w->failure.failed()) {
    napi_reject_deferred(env, w->deferred, makeError(env, w->failure.code, w->failure.message));
  } else {
    napi_value results = nullptr;
    try {
      check(env, napi_create_array_with_length(env, w->outputValues.size(), &results), "outputs");
      for (size_t i = 0; i < w->outputValues.size(); i++) {
        TF_Tensor* tensor = w->outputValues[i];
        w->outputValues[i] = nullptr;
        check(env, napi_set_element(env, results, static_cast<uint32_t>(i), tensorToJs(env, tensor)), "outputs");
      }
      napi_resolve_deferred(env, w->deferred, results);
    } catch (const JsException&) {
      napi_value error;
      napi_get_and_clear_last_exception(env, &error);
      napi_reject_deferred(env, w->deferred, error);
    }
  }
  napi_delete_async_work(env, w->work);
  delete w;
}

napi_value Run(napi_env env, napi_callback_info info) {
  RunWork* w = nullptr;
  try {
    size_t argc = 5;
    napi_value argv[5];
    check(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr), "arguments");
    if (argc < 4) throwType(env, "run(session, feeds, fetches, targets[, runOptions])");
    Session* session = acquireSession(env, argv[0]);
    w = new RunWork();
    w->env = env;
    w->session = session;
    for (napi_value feed : getArray(env, argv[1], "feeds")) {
      std::string name = getString(env, property(env, feed, "name"), "feed name");
      w->inputs.push_back(resolveOutput(env, session->graph, name));
      w->inputValues.push_back(tensorFromJs(env, feed, name));
    }
    for (const std::string& name : getStrings(env, argv[2], "fetches")) w->outputs.push_back(resolveOutput(env, session->graph, name));
    for (const std::string& name : getStrings(env, argv[3], "targets")) {
      TF_Operation* op = TF_GraphOperationByName(session->graph, name.c_str());
      if (!op) {
        napi_throw(env, makeError(env, TF_NOT_FOUND, "Operation " + name + " is not in the graph"));
        throw JsException();
      }
      w->targets.push_back(op);
    }
    if (argc >= 5) {
      napi_valuetype type;
      check(env, napi_typeof(env, argv[4], &type), "runOptions");
      if (type != napi_null && type != napi_undefined) {
        void* bytes;
        size_t length;
        bytesOf(env, argv[4], "runOptions", &bytes, &length);
        w->runOptions.assign(static_cast<const char*>(bytes), length);
      }
    }
    napi_value promise, name;
    check(env, napi_create_promise(env, &w->deferred, &promise), "promise");
    napi_create_string_utf8(env, "tfmodel.run", NAPI_AUTO_LENGTH, &name);
    check(env, napi_create_async_work(env, nullptr, name, runExecute, runComplete, w, &w->work), "async work");
    check(env, napi_queue_async_work(env, w->work), "queue");
    return promise;
  } catch (const JsException&) {
    delete w;
    return nullptr;
  }
}

// ---------------------------------------------------------------------------------------------
// restoreVariables

struct RestoreEntry {
  std::string handle;
  std::string key;
  TF_DataType dtype;
};

struct RestoreWork {
  napi_env env = nullptr;
  napi_async_work work = nullptr;
  napi_deferred deferred = nullptr;
  Session* session = nullptr;
  std::string prefix;
  std::vector<RestoreEntry> entries;
  Failure failure;
  ~RestoreWork() {
    if (session) releaseSession(env, session);
  }
};

TF_Operation* stringConst(TF_Graph* graph, const std::string& name, const std::vector<std::string>& values, bool scalar,
                          TF_Status* status) {
  int64_t dims[1] = {static_cast<int64_t>(values.size())};
  TF_Tensor* tensor = TF_AllocateTensor(TF_STRING, dims, scalar ? 0 : 1, values.size() * sizeof(TF_TString));
  auto* strings = static_cast<TF_TString*>(TF_TensorData(tensor));
  for (size_t i = 0; i < values.size(); i++) {
    TF_StringInit(&strings[i]);
    TF_StringCopy(&strings[i], values[i].data(), values[i].size());
  }
  TF_OperationDescription* d = TF_NewOperation(graph, "Const", name.c_str());
  TF_SetAttrTensor(d, "value", tensor, status);
  TF_SetAttrType(d, "dtype", TF_STRING);
  TF_Operation* op = TF_GetCode(status) == TF_OK ? TF_FinishOperation(d, status) : nullptr;
  TF_DeleteTensor(tensor);
  return op;
}

void restoreExecute(napi_env, void* data) {
  auto* w = static_cast<RestoreWork*>(data);
  TF_Graph* graph = w->session->graph;
  TF_Status* status = TF_NewStatus();
  static std::atomic<int> counter{0};
  std::string scope = "tfmodel_restore_" + std::to_string(counter++);
  std::vector<std::string> keys, slices;
  std::vector<TF_DataType> dtypes;
  for (const RestoreEntry& e : w->entries) {
    keys.push_back(e.key);
    slices.push_back("");
    dtypes.push_back(e.dtype);
  }
  std::vector<TF_Operation*> targets;
  TF_Operation* prefix = stringConst(graph, scope + "/prefix", {w->prefix}, true, status);
  TF_Operation* names = TF_GetCode(status) == TF_OK ? stringConst(graph, scope + "/tensor_names", keys, false, status) : nullptr;
  TF_Operation* shapes = TF_GetCode(status) == TF_OK ? stringConst(graph, scope + "/shape_and_slices", slices, false, status) : nullptr;
  TF_Operation* restore = nullptr;
  if (TF_GetCode(status) == TF_OK) {
    TF_OperationDescription* d = TF_NewOperation(graph, "RestoreV2", (scope + "/RestoreV2").c_str());
    TF_AddInput(d, TF_Output{prefix, 0});
    TF_AddInput(d, TF_Output{names, 0});
    TF_AddInput(d, TF_Output{shapes, 0});
    TF_SetAttrTypeList(d, "dtypes", dtypes.data(), static_cast<int>(dtypes.size()));
    restore = TF_FinishOperation(d, status);
  }
  for (size_t i = 0; i < w->entries.size() && TF_GetCode(status) == TF_OK; i++) {
    TF_Operation* handle = TF_GraphOperationByName(graph, w->entries[i].handle.c_str());
    if (!handle) {
      TF_SetStatus(status, TF_NOT_FOUND, ("Variable handle " + w->entries[i].handle + " is not in the graph").c_str());
      break;
    }
    TF_OperationDescription* d = TF_NewOperation(graph, "AssignVariableOp", (scope + "/Assign_" + std::to_string(i)).c_str());
    TF_AddInput(d, TF_Output{handle, 0});
    TF_AddInput(d, TF_Output{restore, static_cast<int>(i)});
    TF_SetAttrType(d, "dtype", w->entries[i].dtype);
    TF_Operation* assign = TF_FinishOperation(d, status);
    if (assign) targets.push_back(assign);
  }
  if (TF_GetCode(status) == TF_OK) {
    TF_SessionRun(w->session->session, nullptr, nullptr, nullptr, 0, nullptr, nullptr, 0, targets.data(),
                  static_cast<int>(targets.size()), nullptr, status);
  }
  if (TF_GetCode(status) != TF_OK) w->failure.set(status);
  TF_DeleteStatus(status);
}

void restoreComplete(napi_env env, napi_status, void* data) {
  auto* w = static_cast<RestoreWork*>(data);
  if (w->failure.failed()) {
    napi_reject_deferred(env, w->deferred, makeError(env, w->failure.code, w->failure.message));
  } else {
    napi_value undefined;
    napi_get_undefined(env, &undefined);
    napi_resolve_deferred(env, w->deferred, undefined);
  }
  napi_delete_async_work(env, w->work);
  delete w;
}

napi_value RestoreVariables(napi_env env, napi_callback_info info) {
  RestoreWork* w = nullptr;
  try {
    size_t argc = 3;
    napi_value argv[3];
    check(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr), "arguments");
    if (argc < 3) throwType(env, "restoreVariables(session, prefix, entries)");
    Session* session = acquireSession(env, argv[0]);
    w = new RestoreWork();
    w->env = env;
    w->session = session;
    w->prefix = getString(env, argv[1], "prefix");
    for (napi_value entry : getArray(env, argv[2], "entries")) {
      w->entries.push_back(RestoreEntry{getString(env, property(env, entry, "handle"), "handle"),
                                        getString(env, property(env, entry, "key"), "key"),
                                        static_cast<TF_DataType>(getInt(env, property(env, entry, "dtype"), "dtype"))});
    }
    napi_value promise, name;
    check(env, napi_create_promise(env, &w->deferred, &promise), "promise");
    napi_create_string_utf8(env, "tfmodel.restoreVariables", NAPI_AUTO_LENGTH, &name);
    check(env, napi_create_async_work(env, nullptr, name, restoreExecute, restoreComplete, w, &w->work), "async work");
    check(env, napi_queue_async_work(env, w->work), "queue");
    return promise;
  } catch (const JsException&) {
    delete w;
    return nullptr;
  }
}

napi_value CloseSession(napi_env env, napi_callback_info info) {
  try {
    size_t argc = 1;
    napi_value argv[1];
    check(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr), "arguments");
    if (argc < 1) throwType(env, "closeSession(session)");
    SessionHandle* handle = handleOf(env, argv[0]);
    napi_deferred freed;
    napi_value promise;
    check(env, napi_create_promise(env, &freed, &promise), "promise");
    handle->close(env, freed);
    return promise;
  } catch (const JsException&) {
    return nullptr;
  }
}

// trimMemory: malloc_trim(0) walks every arena (TensorFlow's threads allocate from many); it
// returns whole free pages to the system, which glibc otherwise keeps after a session is freed.
struct TrimWork {
  napi_deferred deferred = nullptr;
  bool released = false;
};

void trimExecute(void* data) { static_cast<TrimWork*>(data)->released = malloc_trim(0) != 0; }

void trimComplete(napi_env env, void* data) {
  auto* w = static_cast<TrimWork*>(data);
  napi_value released;
  napi_get_boolean(env, w->released, &released);
  napi_resolve_deferred(env, w->deferred, released);
  delete w;
}

napi_value TrimMemory(napi_env env, napi_callback_info) {
  auto* w = new TrimWork();
  try {
    napi_value promise;
    check(env, napi_create_promise(env, &w->deferred, &promise), "promise");
    if (!runInBackground(env, "tfmodel.trimMemory", trimExecute, trimComplete, w, true)) {
      trimExecute(w);
      trimComplete(env, w);
    }
    return promise;
  } catch (const JsException&) {
    delete w;
    return nullptr;
  }
}

napi_value Version(napi_env env, napi_callback_info) {
  napi_value out;
  napi_create_string_utf8(env, TF_Version(), NAPI_AUTO_LENGTH, &out);
  return out;
}

}  // namespace

// sessionOptionsView lives in options-view.cc (it reads TensorFlow's C++ SessionOptions).
napi_value SessionOptionsView(napi_env env, napi_callback_info info);

NAPI_MODULE_INIT() {
  napi_property_descriptor properties[] = {
      {"loadSession", nullptr, LoadSession, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"run", nullptr, Run, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"restoreVariables", nullptr, RestoreVariables, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"closeSession", nullptr, CloseSession, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"trimMemory", nullptr, TrimMemory, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"tensorflowVersion", nullptr, Version, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"sessionOptionsView", nullptr, SessionOptionsView, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
  };
  napi_define_properties(env, exports, sizeof(properties) / sizeof(properties[0]), properties);
  napi_value abi;
  napi_create_int32(env, kAbiVersion, &abi);
  napi_set_named_property(env, exports, "abiVersion", abi);
  return exports;
}
