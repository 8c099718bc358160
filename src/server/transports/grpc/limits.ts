/** gRPC message limits shared by our server and clients (its own module so a client does not load the server). */

/** 2 GiB - 1: TF Serving's kint32max (SetMaxMessageSize takes an int); protobuf caps a message at 2 GiB anyway. */
export const MAX_MESSAGE_BYTES = 2 ** 31 - 1;
