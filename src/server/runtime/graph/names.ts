/** Names of the ops and attrs the freezer introduces (they never come from TensorFlow). */

/** Stands for a captured resource while freezing: attr `key` = checkpoint key. Never exported. */
export const RESOURCE_MARKER_OP = '_TfmResource';

/** Reads a variable that the graph also assigns: attr `variable` (checkpoint key). Extra inputs only order it. */
export const READ_VARIABLE_OP = '_TfmReadVariable';
/** Assigns/adds/subtracts input 0 to a variable and returns the new value: attrs `variable`, `mode`. */
export const ASSIGN_VARIABLE_OP = '_TfmAssignVariable';
/** Returns input 0 once every other input has been computed: orders side effects. */
export const AFTER_OP = '_TfmAfter';

/**
 * Returns input 0 (an int64 result computed as int32) after checking it against input 1 (the same
 * op on float32 copies): a large difference means the int32 arithmetic overflowed. Attr
 * `checked_op` names the op.
 */
export const INT64_CHECK_OP = '_TfmCheckInt64';

/** GatherV2 whose params are strings (tfjs gathers numbers only). */
export const GATHER_STRINGS_OP = '_TfmGatherStrings';

/** TF1 Select: a rank-1 condition picks whole rows of higher-rank operands (tfjs broadcasts instead). */
export const SELECT_V1_OP = '_TfmSelectV1';

/** TensorListSetItem storing a copy of its element (tfjs disposes a While body's intermediates). */
export const TENSOR_LIST_SET_ITEM_OP = '_TfmTensorListSetItem';

/** ZerosLike of a string tensor: empty strings (tfjs's zerosLike takes numbers only). */
export const ZEROS_LIKE_STRINGS_OP = '_TfmZerosLikeStrings';

/** Conv2D and _FusedConv2D, grouped ones included (tfjs convolves one group only). */
export const CONV2D_OP = '_TfmConv2D';

export type AssignMode = 'assign' | 'add' | 'sub';

/** Attr naming the checkpoint key on variable reads, assigns and variable Consts. */
export const VARIABLE_ATTR = 'variable';

/** Name of the Const node holding a variable's value (the same in every body that reads it). */
export const variableConstName = (key: string): string => `tfm_variables/${key}`;

/**
 * A group of float32 elementwise ops run as one JS loop (tfjs/fuse-elementwise.ts): attr
 * `program` (JSON of ElementwiseProgram) says what to compute from the inputs.
 */
export const FUSED_ELEMENTWISE_OP = '_TfmFusedElementwise';
