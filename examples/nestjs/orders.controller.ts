import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, MessagePattern, Payload, RpcException } from '@nestjs/microservices';
import type { SwitchyardContext } from '@switchyard/nestjs';

export const PLACED_ORDERS = Symbol('placed orders');

export interface OrderLine {
  readonly sku: string;
  readonly price: number;
  readonly qty: number;
}

/** What the service remembers of the orders it was told about (a database in a real service). */
export class PlacedOrders {
  readonly ids: string[] = [];
  readonly #waiters: Array<() => void> = [];

  add(id: string): void {
    this.ids.push(id);
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** Resolves once `id` has been handled. */
  async seen(id: string): Promise<void> {
    while (!this.ids.includes(id)) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }
}

// The dependency names its token with @Inject: no emitDecoratorMetadata needed (esbuild and oxc,
// which run the tests and tsx, do not emit it).
@Controller()
export class OrdersController {
  constructor(@Inject(PLACED_ORDERS) private readonly placed: PlacedOrders) {}

  /** Request-reply: the caller's `send('orders-quote', lines)` gets this value back. */
  @MessagePattern('orders-quote')
  quote(@Payload() lines: OrderLine[]): { total: number; lines: number } {
    if (!Array.isArray(lines) || lines.length === 0)
      throw new RpcException('an order needs at least one line');
    return { total: lines.reduce((sum, l) => sum + l.price * l.qty, 0), lines: lines.length };
  }

  /** An event: recorded, then acked by hand (the server runs with noAck: false). */
  @EventPattern<string>('orders-placed')
  async orderPlaced(@Payload() order: { id: string }, @Ctx() ctx: SwitchyardContext): Promise<void> {
    this.placed.add(order.id);
    await ctx.ack();
  }
}
