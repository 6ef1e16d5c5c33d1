import { Module } from '@nestjs/common';
import { OrdersController, PLACED_ORDERS, PlacedOrders } from './orders.controller.js';

@Module({
  controllers: [OrdersController],
  // A factory, not a value: each application instance gets its own.
  providers: [{ provide: PLACED_ORDERS, useFactory: () => new PlacedOrders() }],
})
export class AppModule {}
