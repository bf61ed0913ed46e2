# SPDX-License-Identifier: Apache-2.0
import warnings

import torch

# Tracing our own modules warns about Python-side shape checks; the traces are exercised
# only at the traced shapes.
warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
warnings.filterwarnings("ignore", category=UserWarning, module="torch")
