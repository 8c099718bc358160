/**
 * The orders libstdc++ gives TensorFlow's kernels where equal keys leave the order unspecified:
 * std::priority_queue (push_heap/pop_heap) and std::sort (introsort, then insertion sort). A
 * kernel that sorts scores and answers in that order (CombinedNonMaxSuppression) puts tied
 * candidates where these algorithms put them; emulating them step for step keeps our answer
 * TensorFlow's even on ties, where any stable or other sort would differ.
 */

/** comp(a, b): a orders before b in the heap's "less" sense (the top is the greatest). */
type Less<T> = (a: T, b: T) => boolean;

function pushHeapHole<T>(heap: T[], hole: number, top: number, value: T, less: Less<T>): void {
  let parent = Math.floor((hole - 1) / 2);
  while (hole > top && less(heap[parent]!, value)) {
    heap[hole] = heap[parent]!;
    hole = parent;
    parent = Math.floor((hole - 1) / 2);
  }
  heap[hole] = value;
}

function adjustHeap<T>(heap: T[], hole: number, length: number, value: T, less: Less<T>): void {
  const top = hole;
  let child = hole;
  while (child < Math.floor((length - 1) / 2)) {
    child = 2 * (child + 1);
    if (less(heap[child]!, heap[child - 1]!)) child--;
    heap[hole] = heap[child]!;
    hole = child;
  }
  if ((length & 1) === 0 && child === Math.floor((length - 2) / 2)) {
    child = 2 * (child + 1);
    heap[hole] = heap[child - 1]!;
    hole = child - 1;
  }
  pushHeapHole(heap, hole, top, value, less);
}

/** std::priority_queue<T, std::vector<T>, Less>. */
export class StlPriorityQueue<T> {
  private readonly heap: T[] = [];
  constructor(private readonly less: Less<T>) {}

  get size(): number {
    return this.heap.length;
  }

  push(value: T): void {
    this.heap.push(value);
    pushHeapHole(this.heap, this.heap.length - 1, 0, value, this.less);
  }

  /** top() then pop(). */
  pop(): T {
    const heap = this.heap;
    const top = heap[0]!;
    const last = heap.length - 1;
    if (last > 0) {
      const value = heap[last]!;
      heap[last] = top;
      adjustHeap(heap, 0, last, value, this.less);
    }
    heap.pop();
    return top;
  }
}

const THRESHOLD = 16;

function unguardedLinearInsert<T>(a: T[], last: number, less: Less<T>): void {
  const value = a[last]!;
  let next = last - 1;
  while (less(value, a[next]!)) {
    a[last] = a[next]!;
    last = next;
    next--;
  }
  a[last] = value;
}

function insertionSort<T>(a: T[], first: number, last: number, less: Less<T>): void {
  if (first === last) return;
  for (let i = first + 1; i < last; i++) {
    if (less(a[i]!, a[first]!)) {
      const value = a[i]!;
      a.copyWithin(first + 1, first, i);
      a[first] = value;
    } else {
      unguardedLinearInsert(a, i, less);
    }
  }
}

function swap<T>(a: T[], i: number, j: number): void {
  const t = a[i]!;
  a[i] = a[j]!;
  a[j] = t;
}

function moveMedianToFirst<T>(a: T[], result: number, x: number, y: number, z: number, less: Less<T>): void {
  if (less(a[x]!, a[y]!)) {
    if (less(a[y]!, a[z]!)) swap(a, result, y);
    else if (less(a[x]!, a[z]!)) swap(a, result, z);
    else swap(a, result, x);
  } else if (less(a[x]!, a[z]!)) swap(a, result, x);
  else if (less(a[y]!, a[z]!)) swap(a, result, z);
  else swap(a, result, y);
}

function unguardedPartition<T>(a: T[], first: number, last: number, pivot: number, less: Less<T>): number {
  for (;;) {
    while (less(a[first]!, a[pivot]!)) first++;
    last--;
    while (less(a[pivot]!, a[last]!)) last--;
    if (!(first < last)) return first;
    swap(a, first, last);
    first++;
  }
}

/** std::partial_sort(first, last, last): make_heap then sort_heap. */
function heapSort<T>(a: T[], first: number, last: number, less: Less<T>): void {
  const sub = a.slice(first, last);
  const length = sub.length;
  if (length >= 2) {
    for (let parent = Math.floor((length - 2) / 2); ; parent--) {
      adjustHeap(sub, parent, length, sub[parent]!, less);
      if (parent === 0) break;
    }
  }
  for (let end = length - 1; end > 0; end--) {
    const value = sub[end]!;
    sub[end] = sub[0]!;
    adjustHeap(sub, 0, end, value, less);
  }
  for (let i = 0; i < length; i++) a[first + i] = sub[i]!;
}

function introsortLoop<T>(a: T[], first: number, last: number, depth: number, less: Less<T>): void {
  while (last - first > THRESHOLD) {
    if (depth === 0) {
      heapSort(a, first, last, less);
      return;
    }
    depth--;
    const mid = first + Math.floor((last - first) / 2);
    moveMedianToFirst(a, first, first + 1, mid, last - 1, less);
    const cut = unguardedPartition(a, first + 1, last, first, less);
    introsortLoop(a, cut, last, depth, less);
    last = cut;
  }
}

/** std::sort(a.begin(), a.end(), less), in place. */
export function stlSort<T>(a: T[], less: Less<T>): void {
  const n = a.length;
  if (n === 0) return;
  introsortLoop(a, 0, n, 2 * Math.floor(Math.log2(n)), less);
  if (n > THRESHOLD) {
    insertionSort(a, 0, THRESHOLD, less);
    for (let i = THRESHOLD; i < n; i++) unguardedLinearInsert(a, i, less);
  } else {
    insertionSort(a, 0, n, less);
  }
}
