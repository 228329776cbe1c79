/** The `data` namespace: datasets, file readers, the DataLoader and augmentation. */
export { type Dataset, type NormalizeStats, subset, take, classCounts, datasetLength, checkDataset } from './dataset.js';
export type { ByteSource } from './source.js';
export {
  type IdxImages,
  type IdxDatasetOptions,
  type Split,
  IDX_IMAGES_MAGIC,
  IDX_LABELS_MAGIC,
  MNIST_STATS,
  readIdxImages,
  readIdxLabels,
  idxFileNames,
  loadIdxDataset,
  loadMnistIdx,
} from './idx.js';
export {
  type MnistEmbeddedOptions,
  MNIST_EMBEDDED_CLASS_COUNTS,
  MNIST_EMBEDDED_TOTAL,
  loadMnistEmbedded,
} from './mnist-embedded.js';
export {
  type FashionMnistOptions,
  FASHION_MNIST_DIR,
  FASHION_MNIST_CLASSES,
  FASHION_MNIST_STATS,
  loadFashionMnist,
  loadFashionMnistSplit,
} from './fashion-mnist.js';
export {
  type Cifar10Batch,
  type Cifar10Options,
  CIFAR10_CLASSES,
  CIFAR10_STATS,
  readCifar10Batch,
  loadCifar10,
  cifar10FileNames,
} from './cifar10.js';
export { type Batch, type DataLoaderOptions, type DataLoaderState, DataLoader } from './loader.js';
export { type AugmentFn, type ImageShape, type CifarAugmentOptions, cifarAugment, composeAugment, flipHorizontal, shiftImage } from './augment.js';
